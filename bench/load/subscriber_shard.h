// One load process's share of the SSE subscribers: an epoll loop that opens its connections
// (paced, from several 127.0.0.x source addresses), reads every event, and measures delivery
// latency from the send timestamp in each update. The coordinating process steers it through a
// line protocol on a pipe (see ShardCommand) and gets reports back as JSON lines.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pubsub_protocol.h"

namespace bench {

struct SubscriberSpec {
  std::string topic;
  uint32_t source = 0;       // network byte order
  uint32_t destination = 0;  // network byte order
  int port = 0;
  bool slow = false;  // stops reading once subscribed
};

struct ShardSettings {
  std::vector<SubscriberSpec> subscribers;
  // Connects in flight at once (connect started, response headers not yet in).
  int max_pending_connects = 512;
  // A subscription that has no response headers after this long counts as failed.
  int connect_timeout_ms = 15'000;
  // SO_RCVBUF of slow subscribers, so their backlog reaches the server quickly.
  int slow_receive_buffer = 4096;
};

// Commands, one per line, from the coordinator:
//   reset [SEQ]           forget latencies and counts measured so far, and ignore updates
//                         numbered below SEQ from now on (end of warm-up)
//   report                answer with one "report {json}" line
//   drop                  close every connection (first half of a reconnect storm)
//   reconnect SEQ T0_NS   reopen all with Last-Event-ID; a subscriber has caught up when it
//                         receives seq >= SEQ; catch-up time counts from T0_NS
//   quit                  close everything and exit
// Each finished connect wave is announced with a "connected {json}" line.
int run_subscriber_shard(const PubSubProtocol& protocol, ShardSettings settings, int command_fd,
                         int report_fd);

// "seq=<n> ts=<monotonic ns> ..." is what the publisher sends; returns false if absent.
bool parse_update_stamp(std::string_view data, int64_t& seq, int64_t& sent_ns);

}  // namespace bench
