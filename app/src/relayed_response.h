// Turns an UpstreamRelay into the client's response: the upstream's status and the end-to-end
// headers worth passing on (never hop-by-hop ones), then the body, whole when it is small and of
// known length, streamed as it arrives otherwise. No answer from upstream becomes a JSON 502
// (cannot connect, broken) or 504 (too slow).
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "upstream_relay.h"

namespace app {

struct RelayOptions {
  std::string upstream_name;                 // "agent", "hub": words for error messages
  std::chrono::milliseconds head_timeout{30'000};
  std::chrono::milliseconds body_timeout{30'000};  // whole-body wait for small bodies
  std::size_t whole_body_bound = 1024 * 1024;
  // When the head does not come in time but the exchange is alive (an event stream that has not
  // said anything yet), answer as if it had said this instead of 504; empty = 504.
  std::string silent_stream_content_type;
  // For event streams: when nothing came for this long, send the client an SSE comment line (at
  // an event boundary only). Finds clients that left while the upstream is quiet, so that their
  // place in a stream budget is given back soon; 0 = never.
  std::chrono::milliseconds idle_comment_interval{0};
  // Runs once when the client's response is over (streamed or not).
  std::function<void()> on_done;
};

void send_relayed(const std::shared_ptr<UpstreamRelay>& relay, httplib::Response& res, const RelayOptions& options);

// True for response headers that describe the connection rather than the content (RFC 9110 §7.6.1)
// or that the server computes itself.
bool is_hop_by_hop(const std::string& lower_name);

}  // namespace app
