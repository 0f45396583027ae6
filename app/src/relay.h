// Relays one request to an upstream and its answer back to the client, on the exchange's event
// loop: the upstream's status and the headers worth passing on (relay_headers.h), then the body.
// A small body of known length (up to APP_RELAY_BUFFER) is read whole first, so that an answer
// broken off half-way is still a clean 502; anything else streams as it arrives, through the
// call's RelayFlow, so that the upstream is read only as fast as the client takes it. No answer
// from the upstream is a JSON 502 "<name>_unavailable" (cannot connect, broken) or 504
// "<name>_timeout". The client leaving closes the upstream connection. Event streams get an SSE
// comment when quiet (at event boundaries only), which also finds clients that left.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "exchange.h"
#include "upstream_call.h"

namespace app {

class UpstreamPool;

struct RelayOptions {
  std::string upstream_name;  // "agent", "hub": words for errors and logs
  UpstreamTimeouts timeouts;
  std::size_t buffer_bytes = 1024 * 1024;
  // For event streams: an SSE comment after this long without a byte to the client; 0 = never.
  std::chrono::milliseconds idle_comment{0};
  // Set on the response, replacing the upstream's.
  std::vector<std::pair<std::string, std::string>> fixed_headers;
  // Added to 2xx responses only.
  std::vector<std::pair<std::string, std::string>> success_headers;
  // Released when the relay is over (a place in a stream budget).
  std::shared_ptr<void> hold;
};

class Relay : public std::enable_shared_from_this<Relay> {
 public:
  static void start(const ExchangePtr& exchange, UpstreamPool& pool, UpstreamRequest request,
                    RelayOptions options);
  Relay(ExchangePtr exchange, std::shared_ptr<UpstreamCall> call, RelayOptions options);

 private:
  void on_head(UpstreamCall::Failure failure, const std::string& detail);
  Response response_head() const;
  void read_whole();
  void pump();
  void on_body(UpstreamCall::Failure failure, const std::string& detail);
  void schedule_comment();
  void abort();
  void finish();

  ExchangePtr exchange_;
  std::shared_ptr<UpstreamCall> call_;
  RelayOptions options_;
  std::optional<boost::asio::steady_timer> comment_timer_;
  std::optional<Response> whole_head_;  // reading a small body whole before answering
  std::chrono::steady_clock::time_point last_write_{};
  bool done_ = false;
};

}  // namespace app
