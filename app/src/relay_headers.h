// Which upstream response headers reach the client: an allow-list of end-to-end headers worth
// passing on. Everything else stays behind: hop-by-hop and framing headers (RFC 9110 §7.6.1; the
// app frames its own responses), cookies of other services, server banners, and Link (internal
// hub addresses; the app sets its own discovery Link where it means one).
#pragma once

#include <string_view>

namespace app {

// lower_name: a header name in lower case.
bool passed_to_client(std::string_view lower_name);
bool is_hop_by_hop(std::string_view lower_name);

}  // namespace app
