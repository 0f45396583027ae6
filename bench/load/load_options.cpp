#include "load_options.h"

#include <charconv>
#include <cstdlib>

namespace bench {

LoadOptions::LoadOptions(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string name = argv[i];
    if (name.rfind("--", 0) != 0 || name.size() < 3)
      throw OptionError("unexpected argument: " + name);
    name = name.substr(2);
    std::string value = "1";
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      value = argv[++i];
    }
    values_[name] = value;
    used_[name] = false;
  }
}

std::string LoadOptions::text(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  used_[name] = true;
  return it->second;
}

long long LoadOptions::integer(const std::string& name, long long fallback, long long min,
                               long long max) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  used_[name] = true;
  long long value = 0;
  const std::string& text = it->second;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    throw OptionError("--" + name + ": expected an integer in [" + std::to_string(min) + ", " +
                      std::to_string(max) + "], got '" + text + "'");
  }
  return value;
}

double LoadOptions::number(const std::string& name, double fallback, double min, double max) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  used_[name] = true;
  char* end = nullptr;
  const double value = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0' || !(value >= min && value <= max)) {
    throw OptionError("--" + name + ": expected a number in [" + std::to_string(min) + ", " +
                      std::to_string(max) + "], got '" + it->second + "'");
  }
  return value;
}

bool LoadOptions::flag(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return false;
  used_[name] = true;
  return it->second != "0" && it->second != "false";
}

std::vector<int> LoadOptions::integers(const std::string& name) const {
  std::vector<int> out;
  const std::string all = text(name, "");
  std::size_t start = 0;
  while (start < all.size()) {
    const auto comma = all.find(',', start);
    const std::string piece =
        all.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int value = 0;
    const auto [end, error] = std::from_chars(piece.data(), piece.data() + piece.size(), value);
    if (error != std::errc() || end != piece.data() + piece.size()) {
      throw OptionError("--" + name + ": expected comma-separated integers, got '" + all + "'");
    }
    out.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void LoadOptions::reject_unknown() const {
  for (const auto& [name, used] : used_) {
    if (!used) throw OptionError("unknown option --" + name);
  }
}

}  // namespace bench
