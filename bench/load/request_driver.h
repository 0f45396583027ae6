// Sends HTTP/1.1 requests over a few keep-alive connections, either at a fixed rate (open
// loop: publishes at N/s) or as fast as the server answers (closed loop: one request in flight
// per connection), and measures each request's latency and status. Used for publishing
// updates and for the request-path benchmark (GET /api/sessions).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "latency_histogram.h"

namespace bench {

struct RequestDriverSettings {
  uint32_t source = 0;       // network byte order
  uint32_t destination = 0;  // network byte order
  int port = 0;
  int connections = 4;
  double rate = 0;  // requests per second over all connections; 0 = closed loop
  double seconds = 10;
  // A request with no complete response after this long fails and its connection is replaced.
  int request_timeout_ms = 10'000;
  // After `seconds`, in-flight requests get at most this long to finish.
  int drain_ms = 5'000;
};

struct RequestDriverResult {
  uint64_t sent = 0;
  uint64_t ok = 0;      // 2xx
  uint64_t failed = 0;  // other statuses, transport errors, timeouts
  uint64_t reconnects = 0;
  std::map<std::string, uint64_t> outcomes;  // "200", "timeout", "connect: ..." -> count
  LatencyHistogram latency_us;
  LatencyHistogram send_lag_us;  // open loop: how late each request left against its schedule
  double elapsed_seconds = 0;
};

struct RequestHooks {
  // Builds request number n (from 0) at the moment it is sent.
  std::function<std::string(uint64_t n)> build;
  // Called once per request with its outcome (HTTP status, or 0 for a transport failure).
  std::function<void(uint64_t n, int status)> on_response;
  // Called about every 100 ms with the monotonic time, for sampling the server.
  std::function<void(int64_t now_ns)> on_tick;
};

RequestDriverResult drive_requests(const RequestDriverSettings& settings,
                                   const RequestHooks& hooks);

}  // namespace bench
