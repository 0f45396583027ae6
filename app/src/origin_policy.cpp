#include "origin_policy.h"

#include <algorithm>

namespace app {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

bool OriginPolicy::state_changing(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::string OriginPolicy::problem(const Request& req, bool bearer_identity) const {
  if (!state_changing(req.method)) return {};
  const std::size_t copies = req.header_count("Origin");
  if (copies > 1) return "more than one Origin header";
  if (copies == 0)
    return bearer_identity ? std::string() : "a state-changing request needs an Origin header";
  const std::string origin = lower(req.header("Origin"));
  if (!allowed_.empty()) {
    for (const auto& allowed : allowed_)
      if (lower(allowed) == origin) return {};
    return "origin " + origin + " is not allowed";
  }
  std::string host_part;
  if (origin.rfind("http://", 0) == 0)
    host_part = origin.substr(7);
  else if (origin.rfind("https://", 0) == 0)
    host_part = origin.substr(8);
  else
    return "origin " + origin + " is not allowed";
  if (req.header_count("Host") != 1) return "one Host header is required";
  if (host_part != lower(req.header("Host"))) return "origin " + origin + " is not allowed";
  return {};
}

}  // namespace app
