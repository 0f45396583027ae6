#include "header_screening.h"

#include <array>
#include <cstring>
#include <string_view>

namespace app {
namespace {

// Names the library itself inserts after parsing; exactly one copy of each is the library's.
constexpr std::array<const char*, 4> kLibraryHeaders = {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR",
                                                        "LOCAL_PORT"};

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

}  // namespace

bool is_header_token(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!is_tchar(c)) return false;
  return true;
}

std::string header_problem(const httplib::Request& req) {
  for (const char* name : kLibraryHeaders) {
    if (req.get_header_value_count(name) > 1) return std::string("the client may not send ") + name;
  }
  for (const auto& [name, value] : req.headers) {
    if (!is_header_token(name)) return "malformed header name (folded or invalid): \"" + name.substr(0, 40) + "\"";
    for (unsigned char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') return "control characters in header " + name;
    }
  }
  return {};
}

}  // namespace app
