// Configuration input: a YAML file given with --config plus environment overrides, read once.
// Each executable turns a ConfigSource into its own typed struct in one place; nothing else
// reads the environment. Every accessor validates and throws ConfigError naming the setting.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace shared {

// A bad or missing setting. what() is one line: "SETTING: why"; control characters from the
// offending value (a newline in a YAML block scalar) are escaped so that it stays one line.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& setting, const std::string& why)
      : std::runtime_error(one_line(setting + ": " + why)), setting_(setting) {}
  const std::string& setting() const { return setting_; }

 private:
  static std::string one_line(const std::string& text);
  std::string setting_;
};

struct ListenAddress {
  std::string host;
  int port = 0;
  std::string to_string() const;
};

// Values by setting name (the environment variable's name). The YAML file is a map whose keys are
// those names in any letter case; the environment wins over the file.
class ConfigSource {
 public:
  ConfigSource() = default;
  explicit ConfigSource(std::map<std::string, std::string> values) : values_(std::move(values)) {}

  // Reads --config FILE (or --config=FILE) from argv and the process environment.
  static ConfigSource from_process(int argc, char** argv);
  // Reads a YAML file (empty path: none) and then the given environment entries ("K=V").
  static ConfigSource from(const std::string& yaml_path, char** environ_entries);
  static std::map<std::string, std::string> parse_yaml_file(const std::string& path);

  std::optional<std::string> get(const std::string& name) const;
  std::string string(const std::string& name, const std::string& fallback) const;
  std::string required_string(const std::string& name) const;
  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  bool boolean(const std::string& name, bool fallback) const;
  // Durations accept "250ms", "5s", "2m", "1h" or a bare number of seconds (up to 100 years).
  std::chrono::milliseconds duration(const std::string& name, std::chrono::milliseconds fallback,
                                     std::chrono::milliseconds min = std::chrono::milliseconds(0),
                                     std::chrono::milliseconds max = std::chrono::hours(24 *
                                                                                        365)) const;
  // Sizes accept "512", "64KiB", "1MiB", "2GiB" (KB/MB also read as 1024-based), up to 2^64-1.
  std::uint64_t size(const std::string& name, std::uint64_t fallback, std::uint64_t min,
                     std::uint64_t max) const;
  std::string one_of(const std::string& name, const std::string& fallback,
                     const std::vector<std::string>& allowed) const;
  ListenAddress listen(const std::string& name, const std::string& fallback) const;
  // Comma or whitespace separated list.
  std::vector<std::string> list(const std::string& name,
                                const std::vector<std::string>& fallback) const;
  // An http(s) URL; throws if malformed.
  std::string url(const std::string& name, const std::string& fallback) const;

  void set(const std::string& name, const std::string& value) { values_[name] = value; }

 private:
  std::map<std::string, std::string> values_;
};

ListenAddress parse_listen_address(const std::string& setting, const std::string& text);
std::chrono::milliseconds parse_duration(const std::string& setting, const std::string& text);
std::uint64_t parse_size(const std::string& setting, const std::string& text);

// Settings every executable shares.
struct LogConfig {
  std::string level = "info";   // LOG_LEVEL: trace|debug|info|warn|error
  std::string format = "json";  // LOG_FORMAT: json|text
};
LogConfig read_log_config(const ConfigSource& source);

}  // namespace shared
