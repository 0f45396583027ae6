// The hub's request ids and access lines. A request keeps the client's X-Request-Id when it is
// plausible, else gets a short id unique to this process; the id goes back in the response and
// on every line logged for the request (a stream's lines too, until it ends). What is logged is a
// setting: HUB_ACCESS_LOG=errors (default: refusals and failures only, since a busy hub accepts
// tens of thousands of publishes a second), all, or off.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace hub {

enum class AccessLog { kOff, kErrors, kAll };

inline constexpr std::string_view kRequestIdHeader = "X-Request-Id";

// The client's id when plausible, else a new one (at most 15 characters, so it fits a string's
// inline buffer: a stream keeps its id for as long as it lasts).
std::string request_id_for(std::string_view client_id);

// Whether a request that ended with this status is logged under the policy (a stream counts as
// its opening status, 200).
bool logs_request(AccessLog policy, int status);

struct AccessLine {
  std::string_view method;
  std::string_view target;  // the query string is never logged: it may carry a token
  int status = 0;
  std::chrono::steady_clock::duration duration{};
  std::string_view remote;
  bool stream = false;
};

// Writes the line (info, warn for 5xx) under the current request scope.
void write_access_line(const AccessLine& line);

}  // namespace hub
