#include "request.h"

namespace app {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::size_t HeaderFields::count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& [k, v] : fields_)
    if (iequals(k, name)) ++n;
  return n;
}

const std::string* HeaderFields::find(std::string_view name) const {
  for (const auto& [k, v] : fields_)
    if (iequals(k, name)) return &v;
  return nullptr;
}

std::string HeaderFields::value(std::string_view name) const {
  const std::string* v = find(name);
  return v ? *v : std::string();
}

}  // namespace app
