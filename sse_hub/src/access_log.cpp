#include "access_log.h"

#include <atomic>
#include <cstdint>

#include "shared/logging.h"

namespace hub {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Six hex digits chosen at start (from a random id), so ids of two hub processes differ.
const std::string& process_prefix() {
  static const std::string prefix = shared::log::new_request_id().substr(0, 6);
  return prefix;
}

}  // namespace

std::string request_id_for(std::string_view client_id) {
  if (shared::log::plausible_request_id(client_id)) return std::string(client_id);
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  char digits[16];
  std::size_t len = 0;
  do {
    digits[len++] = kHex[n & 15];
    n >>= 4;
  } while (n != 0 && len < 8);
  std::string id = process_prefix();
  id += '-';
  while (len > 0) id += digits[--len];
  return id;
}

bool logs_request(AccessLog policy, int status) {
  switch (policy) {
    case AccessLog::kOff:
      return false;
    case AccessLog::kErrors:
      return status >= 400;
    case AccessLog::kAll:
      return true;
  }
  return false;
}

void write_access_line(const AccessLine& line) {
  const std::string_view target = line.target.substr(0, line.target.find('?'));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(line.duration).count();
  nlohmann::json fields = {{"method", std::string(line.method.substr(0, 16))},
                           {"path", std::string(target.substr(0, 256))},
                           {"status", line.status},
                           {"duration_ms", static_cast<std::int64_t>(ms)},
                           {"remote", std::string(line.remote)}};
  if (line.stream) fields["stream"] = true;
  if (line.status >= 500) {
    shared::log::warn("request", std::move(fields));
  } else {
    shared::log::info("request", std::move(fields));
  }
}

}  // namespace hub
