#include "relay_headers.h"

#include <array>

namespace app {

bool is_hop_by_hop(std::string_view n) {
  return n == "connection" || n == "keep-alive" || n == "proxy-authenticate" ||
         n == "proxy-authorization" || n == "te" || n == "trailer" || n == "transfer-encoding" ||
         n == "upgrade" || n == "content-length";
}

bool passed_to_client(std::string_view n) {
  static constexpr std::array<std::string_view, 9> kPassed = {
      "content-type",  "cache-control",    "etag",
      "last-modified", "location",         "retry-after",
      "last-event-id", "content-language", "x-accel-buffering"};
  if (is_hop_by_hop(n)) return false;
  for (const auto& p : kPassed)
    if (n == p) return true;
  return false;
}

}  // namespace app
