// Cross-site request forgery defence: a state-changing request (anything but GET, HEAD, OPTIONS)
// must carry an Origin that is allowed: one of APP_ALLOWED_ORIGINS, or, when that list is empty,
// the origin of the app itself (the Origin's host equals the Host header). Requests without an
// Origin are refused too, except when identity comes from a bearer token, which a browser never
// attaches on its own.
#pragma once

#include <string>
#include <vector>

#include "request.h"

namespace app {

class OriginPolicy {
 public:
  explicit OriginPolicy(std::vector<std::string> allowed) : allowed_(std::move(allowed)) {}
  // Empty when the request may go ahead, otherwise why not.
  std::string problem(const Request& req, bool bearer_identity) const;
  static bool state_changing(const std::string& method);

 private:
  std::vector<std::string> allowed_;
};

}  // namespace app
