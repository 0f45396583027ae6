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

struct State {
  std::shared_mutex mutex;
  std::shared_ptr<spdlog::logger> logger;
  std::string service = "suite";
  bool json = true;
  std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
  std::vector<std::string> secrets;
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

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
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

void redact_values(std::string& line, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.size() < 4) continue;  // too short to tell apart from ordinary text
    size_t pos = 0;
    while ((pos = line.find(s, pos)) != std::string::npos) {
      line.replace(pos, s.size(), "[redacted]");
      pos += 10;
    }
  }
}

}  // namespace

bool is_secret_field(std::string_view name) {
  const std::string n = lower(name);
  static const char* const kWords[] = {"authorization", "cookie",     "password", "secret",
                                       "token",         "credential", "api_key",  "apikey",
                                       "private_key",   "jwt"};
  for (const char* w : kWords)
    if (n.find(w) != std::string::npos) return true;
  return n.size() > 4 && n.compare(n.size() - 4, 4, "_key") == 0;
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
  if (std::find(s.secrets.begin(), s.secrets.end(), value) == s.secrets.end())
    s.secrets.push_back(value);
  // Longest first so that a secret containing another is redacted whole.
  std::sort(s.secrets.begin(), s.secrets.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

bool enabled(Level level) { return static_cast<int>(level) >= state().min_level.load(); }

std::string format_line(Level level, std::string_view message, const nlohmann::json& fields_in) {
  auto& s = state();
  nlohmann::json fields = fields_in.is_object() ? fields_in : nlohmann::json::object();
  redact_fields(fields);
  std::string line;
  std::shared_lock lock(s.mutex);
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
    line = now_iso8601() + " " + level_name(level) + " " + s.service + " " + std::string(message);
    if (!t_request_id.empty()) line += " request_id=" + t_request_id;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      line += " " + it.key() + "=" +
              (it.value().is_string()
                   ? it.value().get<std::string>()
                   : it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
  redact_values(line, s.secrets);
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
