// APP_AUTH=alb-oidc: behind an AWS ALB with OIDC authentication, the ALB sends the signed-in
// user's claims in "x-amzn-oidc-data", an ES256 JWT whose header carries the key id ("kid"), the
// ALB's ARN ("signer") and the expiry ("exp"). The token is accepted when its signer is
// APP_OIDC_SIGNER_ARN, it has not expired, and its signature verifies with the ALB public key of
// that kid (from APP_OIDC_KEYS_DIR/<kid>.pem, or fetched from APP_OIDC_KEYS_URL/<kid> as the
// regional https://public-keys.auth.elb.<region>.amazonaws.com/<kid> serves them). The user id is
// the payload's "sub".
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "authenticator.h"
#include "shared/http_client.h"

namespace app {

class AlbOidcAuthenticator : public Authenticator {
 public:
  struct Options {
    std::string signer_arn;
    std::string keys_dir;
    std::string keys_url;
    std::size_t key_cache = 64;
    std::chrono::milliseconds fetch_timeout{3'000};
    std::chrono::seconds leeway{30};
  };
  explicit AlbOidcAuthenticator(Options options);
  std::string authenticate(const httplib::Request& req) override;

  // The checks on one header value, without the request (tests drive this directly).
  std::string user_of(const std::string& token);

 private:
  std::optional<std::string> public_key(const std::string& kid);

  Options options_;
  shared::http::HttpClient client_;
  std::mutex mutex_;
  std::map<std::string, std::string> pem_by_kid_;
  // Unknown kids are remembered for a while so that forged headers cannot make us fetch forever.
  std::map<std::string, std::chrono::steady_clock::time_point> missing_until_;
};

}  // namespace app
