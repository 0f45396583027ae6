#include "relay_flow.h"

#include <algorithm>

namespace app {

RelayFlow::Next RelayFlow::next() const {
  Next n;
  n.write_client = !writing_ && !pending_.empty();
  n.read_upstream = !reading_ && !ended_ && room() > 0;
  n.end = ended_ && !writing_ && pending_.empty();
  return n;
}

std::size_t RelayFlow::add(std::string_view bytes) {
  const std::size_t n = std::min(bytes.size(), room());
  pending_.append(bytes.substr(0, n));
  return n;
}

std::string RelayFlow::take() {
  std::string out;
  out.swap(pending_);
  in_flight_ = out.size();
  writing_ = true;
  if (!out.empty()) {
    const std::string_view b = out;
    at_event_boundary_ = b.ends_with("\n\n") || b.ends_with("\r\n\r\n");
  }
  return out;
}

void RelayFlow::written() {
  writing_ = false;
  in_flight_ = 0;
}

}  // namespace app
