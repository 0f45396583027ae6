// Who is making a request, by APP_AUTH: one local user (none), the ALB's signed OIDC header
// (alb-oidc) or a bearer token from a file (token). Every /api request goes through one of these,
// on an event loop: authenticate() never blocks. What would (fetching an ALB key the app has not
// seen) is started by prepare() on the blocking pool, and the request is authenticated again
// once it is done.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "app_config.h"
#include "request.h"

namespace app {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The user id of the request's sender. Throws shared::http::HttpError 401 when the request
  // carries no valid identity.
  virtual std::string authenticate(const Request& req) = 0;
  // When authenticate() needs something slow first, starts getting it and returns true; ready()
  // then runs once, on another thread, when it is there (or known to be missing).
  virtual bool prepare(const Request&, std::function<void()>) { return false; }
  // True when identity comes from an Authorization header that browsers never attach by
  // themselves (such requests cannot be cross-site forgeries).
  virtual bool bearer_based() const { return false; }
};

// The one local user of APP_AUTH=none.
class LocalAuthenticator : public Authenticator {
 public:
  explicit LocalAuthenticator(std::string user_id) : user_id_(std::move(user_id)) {}
  std::string authenticate(const Request&) override { return user_id_; }

 private:
  std::string user_id_;
};

// Builds the authenticator APP_AUTH names. Throws shared::ConfigError when its files are unusable.
std::unique_ptr<Authenticator> make_authenticator(const AppConfig& config);

// A user id the app will put into a header and a hub topic: 1..256 printable ASCII characters
// without space, '/', '#', '?', '%', '\\', '{', '}' or quotes (the agent's rule for X-User-Id).
bool plausible_user_id(const std::string& id);

}  // namespace app
