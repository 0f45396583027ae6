#include "shared/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>

extern char** environ;

namespace shared {
namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool parse_int(const std::string& text, std::int64_t& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0') return false;
  out = v;
  return true;
}

}  // namespace

std::string ConfigError::one_line(const std::string& text) {
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

std::string ListenAddress::to_string() const { return host + ":" + std::to_string(port); }

ListenAddress parse_listen_address(const std::string& setting, const std::string& text) {
  const std::string t = trim(text);
  auto colon = t.rfind(':');
  if (colon == std::string::npos) throw ConfigError(setting, "expected HOST:PORT, got '" + t + "'");
  std::string host = t.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  std::int64_t port = 0;
  if (!parse_int(t.substr(colon + 1), port) || port < 0 || port > 65535)
    throw ConfigError(setting,
                      "port must be a number from 0 to 65535, got '" + t.substr(colon + 1) + "'");
  return ListenAddress{host, static_cast<int>(port)};
}

std::chrono::milliseconds parse_duration(const std::string& setting, const std::string& text) {
  const std::string t = trim(text);
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  const std::string number = t.substr(0, i);
  const std::string unit = trim(t.substr(i));
  char* end = nullptr;
  const double v = number.empty() ? -1 : std::strtod(number.c_str(), &end);
  if (number.empty() || end == nullptr || *end != '\0' || v < 0)
    throw ConfigError(setting, "expected a duration such as 500ms, 5s or 2m, got '" + t + "'");
  double ms = 0;
  if (unit == "ms")
    ms = v;
  else if (unit.empty() || unit == "s")
    ms = v * 1000;
  else if (unit == "m")
    ms = v * 60'000;
  else if (unit == "h")
    ms = v * 3'600'000;
  else
    throw ConfigError(setting, "unknown duration unit '" + unit + "' (use ms, s, m or h)");
  // Past this a cast to int64 would be undefined, and no timeout needs it.
  constexpr double kMaxMs = 100.0 * 365 * 24 * 3'600'000;
  if (!(ms <= kMaxMs))
    throw ConfigError(setting, "is too long (at most 100 years), got '" + t + "'");
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::uint64_t parse_size(const std::string& setting, const std::string& text) {
  const std::string t = trim(text);
  size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  const std::string digits = t.substr(0, i);
  if (digits.empty())
    throw ConfigError(setting, "expected a size such as 65536, 64KiB or 1MiB, got '" + t + "'");
  errno = 0;
  const unsigned long long n = std::strtoull(digits.c_str(), nullptr, 10);
  if (errno == ERANGE) throw ConfigError(setting, "is too large, got '" + t + "'");
  const std::string unit = upper(trim(t.substr(i)));
  std::uint64_t mult = 1;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "K" || unit == "KB" || unit == "KIB")
    mult = 1024;
  else if (unit == "M" || unit == "MB" || unit == "MIB")
    mult = 1024ull * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GIB")
    mult = 1024ull * 1024 * 1024;
  else
    throw ConfigError(setting, "unknown size unit '" + unit + "' (use KiB, MiB or GiB)");
  if (n > std::numeric_limits<std::uint64_t>::max() / mult)
    throw ConfigError(setting, "is too large, got '" + t + "'");
  return static_cast<std::uint64_t>(n) * mult;
}

std::map<std::string, std::string> ConfigSource::parse_yaml_file(const std::string& path) {
  std::map<std::string, std::string> out;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError("--config", "cannot read file '" + path + "'");
  } catch (const YAML::Exception& e) {
    throw ConfigError("--config", "'" + path + "' is not valid YAML: " + e.msg + " at line " +
                                      std::to_string(e.mark.line + 1));
  }
  if (root.IsNull()) return out;
  if (!root.IsMap())
    throw ConfigError("--config", "'" + path + "' must be a map of SETTING: value");
  // Every yaml-cpp call below can throw (a conversion the document does not allow): each such
  // error becomes a ConfigError naming the file, never an exception main does not expect.
  try {
    for (const auto& kv : root) {
      if (!kv.first.IsScalar())
        throw ConfigError("--config",
                          "'" + path + "' line " + std::to_string(kv.first.Mark().line + 1) +
                              ": a setting name must be a plain word, not a list or map");
      const std::string key = upper(kv.first.as<std::string>());
      const YAML::Node& v = kv.second;
      if (v.IsScalar()) {
        out[key] = v.as<std::string>();
      } else if (v.IsSequence()) {
        std::string joined;
        for (const auto& item : v) {
          if (!item.IsScalar()) throw ConfigError(key, "list items must be plain values");
          if (!joined.empty()) joined += ",";
          joined += item.as<std::string>();
        }
        out[key] = joined;
      } else if (v.IsNull()) {
        out[key] = "";
      } else {
        throw ConfigError(key, "must be a plain value or a list, not a map");
      }
    }
  } catch (const YAML::Exception& e) {
    throw ConfigError("--config", "'" + path + "' cannot be read as settings: " + e.msg +
                                      " at line " + std::to_string(e.mark.line + 1));
  }
  return out;
}

ConfigSource ConfigSource::from(const std::string& yaml_path, char** environ_entries) {
  std::map<std::string, std::string> values;
  if (!yaml_path.empty()) values = parse_yaml_file(yaml_path);
  for (char** e = environ_entries; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    values[std::string(static_cast<const char*>(*e), eq)] = std::string(eq + 1);
  }
  return ConfigSource(std::move(values));
}

ConfigSource ConfigSource::from_process(int argc, char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config") {
      if (i + 1 >= argc) throw ConfigError("--config", "expects a file name");
      path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      path = arg.substr(9);
    } else {
      throw ConfigError(arg, "unknown argument (the only flag is --config FILE)");
    }
  }
  return from(path, environ);
}

std::optional<std::string> ConfigSource::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string ConfigSource::string(const std::string& name, const std::string& fallback) const {
  auto v = get(name);
  return v ? *v : fallback;
}

std::string ConfigSource::required_string(const std::string& name) const {
  auto v = get(name);
  if (!v || trim(*v).empty()) throw ConfigError(name, "is required but not set");
  return *v;
}

std::int64_t ConfigSource::integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                                   std::int64_t max) const {
  auto v = get(name);
  if (!v || trim(*v).empty()) return fallback;
  std::int64_t n = 0;
  if (!parse_int(trim(*v), n)) throw ConfigError(name, "expected a whole number, got '" + *v + "'");
  if (n < min || n > max)
    throw ConfigError(name, "must be between " + std::to_string(min) + " and " +
                                std::to_string(max) + ", got " + std::to_string(n));
  return n;
}

bool ConfigSource::boolean(const std::string& name, bool fallback) const {
  auto v = get(name);
  if (!v || trim(*v).empty()) return fallback;
  const std::string t = upper(trim(*v));
  if (t == "1" || t == "TRUE" || t == "YES" || t == "ON") return true;
  if (t == "0" || t == "FALSE" || t == "NO" || t == "OFF") return false;
  throw ConfigError(name, "expected true/false or 1/0, got '" + *v + "'");
}

std::chrono::milliseconds ConfigSource::duration(const std::string& name,
                                                 std::chrono::milliseconds fallback,
                                                 std::chrono::milliseconds min,
                                                 std::chrono::milliseconds max) const {
  auto v = get(name);
  if (!v || trim(*v).empty()) return fallback;
  auto d = parse_duration(name, *v);
  if (d < min || d > max)
    throw ConfigError(name, "must be between " + std::to_string(min.count()) + "ms and " +
                                std::to_string(max.count()) + "ms, got '" + *v + "'");
  return d;
}

std::uint64_t ConfigSource::size(const std::string& name, std::uint64_t fallback, std::uint64_t min,
                                 std::uint64_t max) const {
  auto v = get(name);
  if (!v || trim(*v).empty()) return fallback;
  auto n = parse_size(name, *v);
  if (n < min || n > max)
    throw ConfigError(name, "must be between " + std::to_string(min) + " and " +
                                std::to_string(max) + " bytes, got '" + *v + "'");
  return n;
}

std::string ConfigSource::one_of(const std::string& name, const std::string& fallback,
                                 const std::vector<std::string>& allowed) const {
  auto v = get(name);
  if (!v || trim(*v).empty()) return fallback;
  const std::string t = trim(*v);
  if (std::find(allowed.begin(), allowed.end(), t) != allowed.end()) return t;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw ConfigError(name, "must be one of " + list + ", got '" + t + "'");
}

ListenAddress ConfigSource::listen(const std::string& name, const std::string& fallback) const {
  auto v = get(name);
  return parse_listen_address(name, v && !trim(*v).empty() ? *v : fallback);
}

std::vector<std::string> ConfigSource::list(const std::string& name,
                                            const std::vector<std::string>& fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  std::vector<std::string> out;
  std::string cur;
  for (char c : *v) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string ConfigSource::url(const std::string& name, const std::string& fallback) const {
  auto v = get(name);
  const std::string t = trim(v && !trim(*v).empty() ? *v : fallback);
  const bool scheme_ok = t.rfind("http://", 0) == 0 || t.rfind("https://", 0) == 0;
  const size_t host_start = t.find("://") == std::string::npos ? 0 : t.find("://") + 3;
  if (!scheme_ok || host_start >= t.size() || t[host_start] == '/' ||
      t.find_first_of(" \t\r\n") != std::string::npos)
    throw ConfigError(name, "expected an http:// or https:// URL, got '" + t + "'");
  return t;
}

LogConfig read_log_config(const ConfigSource& source) {
  LogConfig c;
  c.level = source.one_of("LOG_LEVEL", "info", {"trace", "debug", "info", "warn", "error"});
  c.format = source.one_of("LOG_FORMAT", "json", {"json", "text"});
  return c;
}

}  // namespace shared
