// Structured logs: one JSON line per event (or a readable text line with LOG_FORMAT=text),
// stamped with the current request id, with secrets redacted by key name and by value. Whatever
// the input, a line stays one line: control characters are escaped in both formats.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "shared/config.h"

namespace shared::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };

// Sets level and format for the process. Safe to call again (tests do).
void init(const LogConfig& config, std::string service);
// Where lines go: stderr by default; tests capture them.
void set_sink_for_tests(std::ostream* sink);

// Values of these are replaced by "[redacted]" wherever they appear in the message or a field
// value, before the line is serialised (so a multi-line PEM key is matched too), and again in
// the finished line, raw and in its JSON-escaped form.
void add_secret(const std::string& value);
// Field names whose values are always redacted: names whose last word (split at _ - . and
// camelCase) is token, secret, password, passwd, passphrase, authorization, cookie, key, apikey,
// jwt, credential(s) or signature; "session_token", "X-Api-Key" and "accessToken" are, counts
// such as "input_tokens" and identifiers such as "key_id" are not.
bool is_secret_field(std::string_view name);

void write(Level level, std::string_view message, nlohmann::json fields = nlohmann::json::object());
inline void trace(std::string_view m, nlohmann::json f = nlohmann::json::object()) {
  write(Level::kTrace, m, std::move(f));
}
inline void debug(std::string_view m, nlohmann::json f = nlohmann::json::object()) {
  write(Level::kDebug, m, std::move(f));
}
inline void info(std::string_view m, nlohmann::json f = nlohmann::json::object()) {
  write(Level::kInfo, m, std::move(f));
}
inline void warn(std::string_view m, nlohmann::json f = nlohmann::json::object()) {
  write(Level::kWarn, m, std::move(f));
}
inline void error(std::string_view m, nlohmann::json f = nlohmann::json::object()) {
  write(Level::kError, m, std::move(f));
}
bool enabled(Level level);
// Writes out what the sink buffers (before a process ends without running destructors).
void flush();

// Formats one line without writing it (what write() would print), for tests.
std::string format_line(Level level, std::string_view message, const nlohmann::json& fields);

// The request id of the current thread's request; every line written while a RequestScope is
// alive carries it.
class RequestScope {
 public:
  explicit RequestScope(std::string request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};
const std::string& current_request_id();
// For servers whose request has no single C++ scope (a hook at its start and another at its
// end, on the same thread): sets the thread's request id; an empty id clears it.
void set_thread_request_id(std::string request_id);
std::string new_request_id();
// A client's X-Request-Id worth keeping and passing on: 1..128 characters of [A-Za-z0-9-_.:]
// (anything else could forge log fields or headers, so a new id is made instead).
bool plausible_request_id(std::string_view id);

}  // namespace shared::log
