#include "header_screening.h"

#include <array>
#include <cstring>

namespace app {
namespace {

constexpr std::array<const char*, 4> kServerSideNames = {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR",
                                                         "LOCAL_PORT"};

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

}  // namespace

bool is_header_token(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!is_tchar(c)) return false;
  return true;
}

std::string header_problem(const Request& req) {
  for (const char* name : kServerSideNames) {
    if (req.header_count(name) > 0) return std::string("the client may not send ") + name;
  }
  for (const auto& [name, value] : req.headers) {
    if (!is_header_token(name)) return "malformed header name: \"" + name.substr(0, 40) + "\"";
    for (unsigned char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') return "control characters in header " + name;
    }
  }
  return {};
}

}  // namespace app
