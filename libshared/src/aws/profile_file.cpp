#include "shared/aws/profile_file.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace shared::aws {
namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string aws_dir(const AwsSettings& settings) {
  return (settings.home.empty() ? "." : settings.home) + "/.aws/";
}

}  // namespace

std::map<std::string, ProfileSection> parse_profile_text(const std::string& text) {
  std::map<std::string, ProfileSection> sections;
  std::istringstream in(text);
  std::string line, current;
  bool in_section = false;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      auto close = t.find(']');
      if (close == std::string::npos) {
        in_section = false;
        continue;
      }
      current = trim(t.substr(1, close - 1));
      in_section = true;
      sections[current];
      continue;
    }
    // Continuation lines (sub-properties such as s3 settings) are not used here.
    if (!in_section || std::isspace(static_cast<unsigned char>(line[0]))) continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(t.substr(0, eq));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = trim(t.substr(eq + 1));
    // Inline comments start with whitespace then '#' or ';'.
    for (size_t i = 1; i < value.size(); ++i) {
      if ((value[i] == '#' || value[i] == ';') &&
          std::isspace(static_cast<unsigned char>(value[i - 1]))) {
        value = trim(value.substr(0, i));
        break;
      }
    }
    sections[current][key] = value;
  }
  return sections;
}

std::string credentials_file_path(const AwsSettings& settings) {
  return settings.shared_credentials_file.empty() ? aws_dir(settings) + "credentials"
                                                  : settings.shared_credentials_file;
}

std::string config_file_path(const AwsSettings& settings) {
  return settings.config_file.empty() ? aws_dir(settings) + "config" : settings.config_file;
}

ProfileSection load_profile(const AwsSettings& settings, const std::string& profile) {
  ProfileSection merged;
  auto config = parse_profile_text(read_file(config_file_path(settings)));
  const std::string config_section = profile == "default" ? "default" : "profile " + profile;
  if (auto it = config.find(config_section); it != config.end()) merged = it->second;
  auto credentials = parse_profile_text(read_file(credentials_file_path(settings)));
  if (auto it = credentials.find(profile); it != credentials.end())
    for (const auto& [k, v] : it->second) merged[k] = v;
  return merged;
}

}  // namespace shared::aws
