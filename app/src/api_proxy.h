// /api/...: the agent's /v1/... API for the signed-in user. Each request is screened (headers),
// identified (401 without a valid identity), rate limited per user (429 with Retry-After),
// checked for an allowed Origin when it changes state (403), held to JSON bodies (415/400), and
// then relayed to the agent with only end-to-end headers, a fresh X-User-Id from the identity
// (any client copy is never forwarded) and the request id. /api/me is answered by the app itself:
// who the user is and their hub subscriber cookie, renewed on every call.
#pragma once

#include <httplib.h>

#include <memory>

#include "app_config.h"
#include "authenticator.h"
#include "origin_policy.h"
#include "rate_limiter.h"
#include "shared/http_client.h"
#include "subscriber_cookie.h"

namespace app {

class ApiProxy {
 public:
  ApiProxy(const AppConfig& config, Authenticator& authenticator, std::shared_ptr<shared::http::HttpClient> client);
  void install(httplib::Server& server);

 private:
  // Screening, identity, rate limit and origin: the user id, or an HttpError thrown.
  std::string admit(const httplib::Request& req, httplib::Response& res);
  void relay(const httplib::Request& req, httplib::Response& res);
  void me(const httplib::Request& req, httplib::Response& res);

  const AppConfig& config_;
  Authenticator& authenticator_;
  std::shared_ptr<shared::http::HttpClient> client_;
  RateLimiter rate_limiter_;
  OriginPolicy origin_policy_;
  SubscriberCookie cookie_;
};

// The agent URL for an /api target ("/api/sessions/x?limit=5" → base + "/v1/sessions/x?limit=5"),
// or an empty string when the path or query holds anything but plain URL characters or has
// "." / ".." segments.
std::string agent_url_for(const std::string& base, const std::string& target);

}  // namespace app
