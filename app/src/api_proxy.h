// /api/...: the agent's /v1/... API for the signed-in user. Each request (its headers already
// screened by the server) is identified (401 without a valid identity), rate limited per user
// (429 with Retry-After), checked for an allowed Origin when it changes state (403), held to JSON
// bodies (415/400; bodies are read whole and validated before they are sent, responses stream),
// and then relayed to the agent with only end-to-end headers, a fresh X-User-Id from the identity
// (any client copy is never forwarded), the request id and X-Forwarded-For from the socket's peer.
// /api/me is answered by the app itself: who the user is and their hub subscriber cookie, renewed
// on every call. GET /api/sessions/{id} also carries the Mercure discovery Link of the hub route.
#pragma once

#include <string>

#include "app_config.h"
#include "authenticator.h"
#include "exchange.h"
#include "origin_policy.h"
#include "rate_limiter.h"
#include "subscriber_cookie.h"

namespace app {

class ApiProxy {
 public:
  ApiProxy(const AppConfig& config, Authenticator& authenticator);
  // GET /api/me, and GET/POST/PUT/PATCH/DELETE /api/<path>.
  static bool routes(const Request& req);
  void handle(const ExchangePtr& exchange);

 private:
  void identified(const ExchangePtr& exchange);
  void me(const ExchangePtr& exchange, const std::string& user);
  void relay(const ExchangePtr& exchange, const std::string& user);

  const AppConfig& config_;
  Authenticator& authenticator_;
  RateLimiter rate_limiter_;
  OriginPolicy origin_policy_;
  SubscriberCookie cookie_;
};

// The agent path for an /api target ("/api/sessions/x?limit=5" → "/v1/sessions/x?limit=5"), or ""
// when the path or query holds anything but plain URL characters or has "." / ".." segments.
std::string agent_target_for(const std::string& target);

// True for "/api/sessions/<id>" (one session, where the Mercure discovery Link goes).
bool is_session_path(const std::string& path);

}  // namespace app
