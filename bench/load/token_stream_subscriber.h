// One SSE subscriber on a chat session's hub topic for the token-latency scenario: a thread
// reads the stream, and for every fake-Bedrock stamp inside a text.delta update records how long
// ago (CLOCK_MONOTONIC, taken as the bytes come off the socket) the fake wrote that token. It
// also tells the turn driver when a turn has ended (turn.done or turn.error).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "http_response_parser.h"
#include "latency_histogram.h"
#include "sse_event_parser.h"

namespace bench {

struct TokenStreamReport {
  LatencyHistogram token_latency_us;  // every token: what a reader waits for each one
  // The newest token of each update: the path from the fake to the reader without the time
  // tokens sat in the agent's coalescing buffer.
  LatencyHistogram newest_token_latency_us;
  uint64_t tokens = 0;
  uint64_t text_updates = 0;
  uint64_t other_updates = 0;
  uint64_t unreadable_updates = 0;  // data that is not the agent's JSON
  std::string error;                // the stream failed or closed
};

class TokenStreamSubscriber {
 public:
  // Sends `subscribe_request` to 127.0.0.1:`port` and waits for the 200 response head; throws
  // std::runtime_error when the hub refuses or does not answer within timeout_ms.
  TokenStreamSubscriber(uint32_t destination, int port, const std::string& subscribe_request,
                        int timeout_ms);
  ~TokenStreamSubscriber();
  TokenStreamSubscriber(const TokenStreamSubscriber&) = delete;
  TokenStreamSubscriber& operator=(const TokenStreamSubscriber&) = delete;

  // Stamps count from now on (the end of warm-up); updates before this are read, not measured.
  void start_measuring() { measuring_ = true; }
  // "turn.done" or "turn.error" once that turn has ended; "" after timeout_ms or if the stream
  // failed.
  std::string wait_for_turn_end(const std::string& turn_id, int timeout_ms);
  // Stops reading and returns what was measured.
  TokenStreamReport finish();

 private:
  void read_loop();
  // Waits up to poll_ms for bytes and parses what came; false once the stream has failed
  // (report_.error says why).
  bool read_some(int poll_ms);
  void on_update(std::string_view data, int64_t received_ns);
  void fail(std::string why);

  int fd_ = -1;
  HttpResponseParser http_;
  SseEventParser events_;
  std::atomic<bool> measuring_{false};
  std::atomic<bool> stop_{false};
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::string> ended_turns_;  // turn id -> end event type
  TokenStreamReport report_;
};

}  // namespace bench
