// One client connection of the app's server, on one event loop: reads requests one at a time
// (RequestParser, with a deadline for each head and body), refuses what breaks the limits before
// reading any body and then closes (so an unread body is never taken for the next request),
// hands each request to the handler as an Exchange, and writes its response whole or as a
// chunked stream. Waits for readability instead of holding a read buffer, so an idle keep-alive
// connection costs a socket and this object. The loop's sweep enforces the timeouts.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exchange.h"
#include "request_parser.h"

namespace app {

class EventLoop;
struct ServerContext;

class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(boost::asio::ip::tcp::socket socket, EventLoop& loop);
  ~ServerConnection();
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  void start();
  // Called by the loop's sweep: true when the connection is to be closed now.
  bool expired(std::chrono::steady_clock::time_point now);
  // Shutdown: true when the connection is to be closed now; otherwise it closes after the
  // response in progress.
  bool drain();
  void close();

  std::size_t slot = 0;  // position in the loop's connection list

  // For Exchange.
  void respond(Exchange& exchange, Response response);
  void begin_stream(Exchange& exchange, Response head);
  void write_piece(Exchange& exchange, std::string bytes, std::function<void()> written);
  void end_stream(Exchange& exchange);
  void fail_stream(Exchange& exchange);
  void abandoned(Exchange& exchange);

 private:
  enum class State : unsigned char {
    kIdle,
    kHead,
    kBody,
    kHandling,
    kResponding,
    kStreaming,
    kLingering,
    kClosed
  };
  struct OutPiece {
    std::string owned;
    std::string_view view;  // used when owned is empty
    std::function<void()> done;
  };

  void new_request(bool first);
  void wait_readable();
  void on_readable(boost::system::error_code ec);
  void on_input_closed();
  void process_input();
  void on_head();
  void dispatch();
  void refuse(int status, const std::string& code, const std::string& message);
  void send(Response response, bool stream);
  std::string frame(Response& response, bool stream);
  void enqueue(OutPiece piece);
  void write_queued();
  void on_written(boost::system::error_code ec);
  void finish_exchange();
  void begin_lingering_close();
  void record(int status);
  const Request* current_request() const;

  boost::asio::ip::tcp::socket socket_;
  EventLoop& loop_;
  ServerContext& server_;
  std::string remote_addr_;
  int remote_port_ = 0;
  boost::beast::flat_buffer input_;
  std::optional<RequestParser> parser_;
  FoldScanner folds_;
  Exchange* exchange_ = nullptr;            // the exchange in progress (it owns this connection)
  std::optional<Request> refused_request_;  // a head refused before dispatch, for the log line
  std::vector<OutPiece> queue_;
  std::vector<OutPiece> in_flight_;
  std::chrono::steady_clock::time_point deadline_{};  // idle, head, body or lingering: close after
  std::chrono::steady_clock::time_point write_started_{};
  int status_ = 0;            // of the response in progress
  std::size_t lingered_ = 0;  // bytes dropped while lingering
  State state_ = State::kHead;
  bool waiting_ = false;
  bool writing_ = false;
  bool keep_alive_ = true;
  bool head_only_ = false;  // HEAD: no body goes out
  bool stream_chunked_ = false;
  bool recorded_ = false;  // the access-log line of this request is written
  bool tracked_ = false;
};

}  // namespace app
