// APP_AUTH=alb-oidc: behind an AWS ALB with OIDC authentication, the ALB sends the signed-in
// user's claims in "x-amzn-oidc-data", an ES256 JWT whose header carries the key id ("kid"), the
// ALB's ARN ("signer") and the expiry ("exp"). The token is accepted when its signer is
// APP_OIDC_SIGNER_ARN, it has not expired, and its signature verifies with the ALB public key of
// that kid (from APP_OIDC_KEYS_DIR/<kid>.pem, or fetched from APP_OIDC_KEYS_URL/<kid> as the
// regional https://public-keys.auth.elb.<region>.amazonaws.com/<kid> serves them). The user id is
// the payload's "sub".
//
// Fetching is blocking (libcurl over https), so it runs on a small BlockingPool, never on an
// event loop: prepare() starts it (one fetch per kid however many requests wait for it) and
// authenticate() only ever reads the caches. Keys found are kept (APP_OIDC_KEY_CACHE of them);
// kids found missing are remembered for a minute in a cache of the same bound, evicting the entry
// nearest to expiry when full, so forged kids can neither make the app fetch per request nor
// flush the memory of the other forged kids.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "authenticator.h"
#include "blocking_pool.h"
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
    std::chrono::seconds missing_memory{60};
    std::size_t fetch_threads = 2;
    std::size_t fetch_queue = 16;
  };
  explicit AlbOidcAuthenticator(Options options);
  ~AlbOidcAuthenticator() override;

  std::string authenticate(const Request& req) override;
  bool prepare(const Request& req, std::function<void()> ready) override;

  // The checks on one header value, without the request (tests drive this directly).
  std::string user_of(const std::string& token);
  // How many key fetches were started (tests: a forged kid is fetched once, not per request).
  std::size_t fetches_started() const;

 private:
  enum class Lookup { kFound, kMissing, kUnknown };
  Lookup lookup(const std::string& kid, std::string* pem);
  void fetch(const std::string& kid);
  void remember_missing(const std::string& kid);
  void remember_found(const std::string& kid, const std::string& pem);

  Options options_;
  shared::http::HttpClient client_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> pem_by_kid_;
  std::deque<std::string> pem_order_;  // oldest first, for eviction
  std::map<std::string, std::chrono::steady_clock::time_point> missing_until_;
  std::map<std::string, std::vector<std::function<void()>>> fetching_;  // kid → who waits for it
  std::size_t fetches_started_ = 0;
  // Last member: its threads are joined first on destruction, while the caches still exist.
  std::unique_ptr<BlockingPool> pool_;
};

// The "kid" of an ALB token's header when it is a plausible key id; "" otherwise.
std::string alb_token_kid(const std::string& token);

}  // namespace app
