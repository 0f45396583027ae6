// One asynchronous HTTP/1.1 exchange with an upstream (the agent or the hub) on the caller's
// event loop: a keep-alive connection from the loop's pool or a new one (connect timeout), the
// request written, the response head read, then the body read into the call's RelayFlow only
// when the relay asks (read_body), which is how the client's pace reaches the upstream. One timer
// enforces the connect timeout, the whole-exchange timeout and the stall timeout (no byte while
// one is awaited). A connection is given back to the pool only after a complete response with
// keep-alive. A reused connection that turns out closed before any answer is retried once on a
// new one, for methods that may be repeated (RFC 9110 §9.2.2).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "relay_flow.h"
#include "response_parser.h"

namespace app {

class UpstreamPool;

struct UpstreamRequest {
  std::string method = "GET";
  std::string target;  // path and query
  std::string host;    // the Host header
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct UpstreamTimeouts {
  std::chrono::milliseconds connect{2'000};
  std::chrono::milliseconds total{0};  // the whole exchange; 0 = none
  std::chrono::milliseconds stall{0};  // no byte while one is awaited; 0 = none
};

class UpstreamCall : public std::enable_shared_from_this<UpstreamCall> {
 public:
  enum class Failure { kNone, kConnect, kTimeout, kBroken };
  using Callback = std::function<void(Failure failure, const std::string& detail)>;

  UpstreamCall(UpstreamPool& pool, UpstreamRequest request, UpstreamTimeouts timeouts,
               std::size_t buffer_bytes);
  ~UpstreamCall();
  UpstreamCall(const UpstreamCall&) = delete;
  UpstreamCall& operator=(const UpstreamCall&) = delete;

  // Connects, sends, reads the head; done() runs once (head() is then valid unless it failed).
  void start(Callback done);
  int status() const { return parser_->status(); }
  const std::vector<std::pair<std::string, std::string>>& headers() const {
    return parser_->headers();
  }
  std::optional<std::uint64_t> content_length() const;

  RelayFlow& flow() { return flow_; }
  // Reads body bytes into flow() (at most its room); done() runs once some were added, the body
  // ended (flow().ended()), or the exchange failed.
  void read_body(Callback done);
  // Closes the connection; no callback runs after this.
  void cancel();

 private:
  enum class Phase { kIdle, kConnecting, kWriting, kReadingHead, kReadingBody, kDone };

  void connect();
  void write_request();
  void read_more();
  void on_read(boost::system::error_code ec, std::size_t n);  // n bytes are already in raw_
  void parse();
  void body_ended();
  bool retry_on_fresh_connection();
  void fail(Failure failure, const std::string& detail);
  void complete(Failure failure, const std::string& detail);
  std::optional<std::chrono::steady_clock::time_point> next_deadline() const;
  void arm_timer();
  void on_timer();
  void set_phase(Phase phase);

  UpstreamPool& pool_;
  UpstreamRequest request_;
  UpstreamTimeouts timeouts_;
  RelayFlow flow_;
  std::string request_text_;
  std::optional<boost::asio::ip::tcp::socket> socket_;
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer raw_;
  std::optional<ResponseParser> parser_;
  Callback pending_;
  std::size_t added_ = 0;  // body bytes put into the flow since read_body()
  Phase phase_ = Phase::kIdle;
  std::chrono::steady_clock::time_point started_{};
  std::chrono::steady_clock::time_point
      phase_started_{};  // connect and stall deadlines count from here
  std::chrono::steady_clock::time_point last_byte_{};
  bool reused_ = false;
  bool retried_ = false;
  bool got_bytes_ = false;
  bool head_done_ = false;
  bool finished_ = false;             // failed, cancelled or body ended
  Failure failure_ = Failure::kNone;  // why it finished, when it failed
  std::optional<std::chrono::steady_clock::time_point> armed_at_;
};

}  // namespace app
