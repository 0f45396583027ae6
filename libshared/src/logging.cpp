#include "shared/logging.h"

#include <openssl/rand.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <ctime>
#include <iostream>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <vector>

namespace shared::log {
namespace {

struct Secret {
  std::string raw;
  std::string json_escaped;  // how it reads inside a JSON string ("\n" for a newline, ...)
};

struct State {
  std::shared_mutex mutex;
  std::shared_ptr<spdlog::logger> logger;
  std::string service = "suite";
  bool json = true;
  std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
  // Longest first, so that a secret containing another is redacted whole.
  std::vector<Secret> secrets;
};

State& state() {
  static State s;
  return s;
}

thread_local std::string t_request_id;

const char* level_name(Level l) {
  switch (l) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

Level parse_level(const std::string& s) {
  if (s == "trace") return Level::kTrace;
  if (s == "debug") return Level::kDebug;
  if (s == "warn") return Level::kWarn;
  if (s == "error") return Level::kError;
  return Level::kInfo;
}

std::string now_iso8601() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void redact_fields(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (is_secret_field(it.key()) && !it.value().is_null())
        it.value() = "[redacted]";
      else
        redact_fields(it.value());
    }
  } else if (j.is_array()) {
    for (auto& v : j) redact_fields(v);
  }
}

void replace_all(std::string& text, const std::string& needle) {
  if (needle.size() < 4) return;  // too short to tell apart from ordinary text
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), "[redacted]");
    pos += 10;
  }
}

void redact_values(std::string& text, const std::vector<Secret>& secrets) {
  for (const auto& s : secrets) replace_all(text, s.raw);
}

void redact_values(nlohmann::json& j, const std::vector<Secret>& secrets) {
  if (j.is_string()) {
    redact_values(j.get_ref<std::string&>(), secrets);
  } else if (j.is_structured()) {
    for (auto& v : j) redact_values(v, secrets);
  }
}

// The serialised line, in case a secret got into it some other way (a field name, a number's
// text): the raw value and the form JSON serialisation gives it.
void redact_serialised(std::string& line, const std::vector<Secret>& secrets) {
  for (const auto& s : secrets) {
    replace_all(line, s.raw);
    if (s.json_escaped != s.raw) replace_all(line, s.json_escaped);
  }
}

// Text lines escape control characters, so that a value such as a request path with %0A in it
// cannot start a forged line.
std::string escape_control(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::string json_escaped(const std::string& raw) {
  const std::string quoted =
      nlohmann::json(raw).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

// Words of a field name: split at _ - . and spaces and where camelCase turns upper.
std::vector<std::string> name_words(std::string_view name) {
  std::vector<std::string> words;
  std::string cur;
  char prev = 0;
  for (char c : name) {
    const bool separator = c == '_' || c == '-' || c == '.' || c == ' ';
    const bool camel_break = std::isupper(static_cast<unsigned char>(c)) &&
                             std::islower(static_cast<unsigned char>(prev));
    if ((separator || camel_break) && !cur.empty()) {
      words.push_back(cur);
      cur.clear();
    }
    if (!separator) cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    prev = c;
  }
  if (!cur.empty()) words.push_back(cur);
  return words;
}

}  // namespace

bool is_secret_field(std::string_view name) {
  static const std::set<std::string, std::less<>> kSecretWords = {
      "token", "secret", "password", "passwd",     "passphrase",  "authorization", "cookie",
      "key",   "apikey", "jwt",      "credential", "credentials", "signature"};
  const auto words = name_words(name);
  return !words.empty() && kSecretWords.count(words.back()) > 0;
}

void init(const LogConfig& config, std::string service) {
  auto& s = state();
  std::unique_lock lock(s.mutex);
  s.service = std::move(service);
  s.json = config.format != "text";
  s.min_level = static_cast<int>(parse_level(config.level));
  if (!s.logger) {
    s.logger = std::make_shared<spdlog::logger>("suite",
                                                std::make_shared<spdlog::sinks::stderr_sink_mt>());
    s.logger->set_pattern("%v");
    s.logger->set_level(spdlog::level::trace);
    s.logger->flush_on(spdlog::level::trace);
  }
}

void set_sink_for_tests(std::ostream* sink) {
  auto& s = state();
  std::unique_lock lock(s.mutex);
  if (sink == nullptr) {
    s.logger = std::make_shared<spdlog::logger>("suite",
                                                std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    s.logger = std::make_shared<spdlog::logger>(
        "suite", std::make_shared<spdlog::sinks::ostream_sink_mt>(*sink, true));
  }
  s.logger->set_pattern("%v");
  s.logger->set_level(spdlog::level::trace);
}

void add_secret(const std::string& value) {
  if (value.empty()) return;
  auto& s = state();
  std::unique_lock lock(s.mutex);
  for (const auto& secret : s.secrets)
    if (secret.raw == value) return;
  s.secrets.push_back(Secret{value, json_escaped(value)});
  std::sort(s.secrets.begin(), s.secrets.end(),
            [](const auto& a, const auto& b) { return a.raw.size() > b.raw.size(); });
}

bool enabled(Level level) { return static_cast<int>(level) >= state().min_level.load(); }

void flush() {
  std::shared_ptr<spdlog::logger> logger;
  {
    std::shared_lock lock(state().mutex);
    logger = state().logger;
  }
  if (logger) logger->flush();
}

std::string format_line(Level level, std::string_view message_in, const nlohmann::json& fields_in) {
  auto& s = state();
  nlohmann::json fields = fields_in.is_object() ? fields_in : nlohmann::json::object();
  redact_fields(fields);
  std::string message(message_in);
  std::string line;
  std::shared_lock lock(s.mutex);
  redact_values(message, s.secrets);
  redact_values(fields, s.secrets);
  if (s.json) {
    nlohmann::ordered_json j;
    j["ts"] = now_iso8601();
    j["level"] = level_name(level);
    j["service"] = s.service;
    j["msg"] = message;
    if (!t_request_id.empty()) j["request_id"] = t_request_id;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (!j.contains(it.key())) j[it.key()] = it.value();
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line =
        now_iso8601() + " " + level_name(level) + " " + s.service + " " + escape_control(message);
    if (!t_request_id.empty()) line += " request_id=" + escape_control(t_request_id);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      line += " " + escape_control(it.key()) + "=" +
              escape_control(
                  it.value().is_string()
                      ? it.value().get<std::string>()
                      : it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
  redact_serialised(line, s.secrets);
  return line;
}

void write(Level level, std::string_view message, nlohmann::json fields) {
  if (!enabled(level)) return;
  std::string line = format_line(level, message, fields);
  std::shared_ptr<spdlog::logger> logger;
  {
    auto& s = state();
    std::shared_lock lock(s.mutex);
    logger = s.logger;
  }
  if (!logger) {
    init(LogConfig{}, "suite");
    std::shared_lock lock(state().mutex);
    logger = state().logger;
  }
  logger->log(spdlog::level::info, "{}", line);
}

RequestScope::RequestScope(std::string request_id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(request_id);
}
RequestScope::~RequestScope() { t_request_id = std::move(previous_); }

const std::string& current_request_id() { return t_request_id; }

void set_thread_request_id(std::string request_id) { t_request_id = std::move(request_id); }

bool plausible_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  unsigned char bytes[12];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    static std::atomic<unsigned long long> counter{0};
    return "req-" + std::to_string(++counter);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace shared::log
