// One client connection of the hub, on one event loop: reads HTTP/1.1 requests (Boost.Beast
// parser, only while a request is being read; the head first, so that Expect: 100-continue is
// answered before the body), answers plain requests with keep-alive, waits for Redis on a
// scaled-out publish, or turns into an event stream that writes shared, pre-encoded update frames
// from a bounded queue and ends with the final chunk when it can.
// Small on purpose: an idle subscriber is a socket, a Subscriber and a few fields.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_response.h"
#include "subscriber.h"
#include "subscription_registry.h"
#include "update.h"

namespace hub {

class EventLoop;
struct HubContext;
struct PendingPublish;

// What a subscribe request turns into: the response head and first bytes, the registered
// subscriber, the updates to replay, and when its token expires.
struct StreamStart {
  std::string head;     // status line and headers, then the first comments (chunks unless !chunked)
  bool chunked = true;  // false for an HTTP/1.0 client: raw events, and the end is the close
  std::unique_ptr<Subscriber> subscriber;
  std::shared_ptr<const SubscriptionInfo> info;
  std::vector<UpdatePtr> replay;
  std::optional<std::chrono::system_clock::time_point> expires_at;
};

class Connection : public std::enable_shared_from_this<Connection>, public UpdateSink {
 public:
  Connection(boost::asio::ip::tcp::socket socket, EventLoop& loop);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();
  void deliver(const UpdatePtr& update) override;

  enum class SweepAction { kNone, kClose };
  // Called by the loop's sweep; may queue a heartbeat, end a stream whose token expired, or ask
  // to be closed.
  SweepAction on_sweep(std::chrono::steady_clock::time_point now,
                       std::chrono::system_clock::time_point wall);
  // Shutdown: true for an idle connection, to be closed now. A stream ends (final chunk, then
  // close) and a busy connection closes after its response; both return false.
  bool drain();
  void close();

  std::size_t slot = 0;  // position in the loop's connection list

 private:
  struct Reader;
  enum class State : unsigned char { kReading, kResponding, kStreaming, kClosed };

  void read_request();
  void on_header(boost::system::error_code ec);
  void read_body();
  void on_read(boost::system::error_code ec);
  void respond(const HttpResponse& response, bool keep_alive, bool with_body = true);
  void await_redis(PendingPublish pending, bool keep_alive);
  void on_redis_answer(bool written, std::string response);
  void begin_stream(StreamStart start);
  void enqueue(std::shared_ptr<const std::string> bytes);
  // The bytes of queue entry i as they go on the wire: an HTTP/1.0 stream sends the payload of
  // each chunk-framed entry (all but the response head) without its framing.
  boost::asio::const_buffer wire_bytes(std::size_t i) const;
  void write_queued();
  void on_written(boost::system::error_code ec);
  // Ends a stream: no more updates, the final chunk after what is queued, then the close.
  void end_stream();
  // Forgets the queued frames that are not being written yet (a dropped slow subscriber).
  void discard_unsent();
  void watch_for_close();
  void close_soon();
  // An access line for the request being answered (or the stream that ended), as HUB_ACCESS_LOG
  // says.
  void log_access(std::string_view method, std::string_view target, int status, bool stream);

  boost::asio::ip::tcp::socket socket_;
  EventLoop& loop_;
  std::unique_ptr<Reader> reader_;
  std::unique_ptr<Subscriber> subscriber_;
  std::shared_ptr<const SubscriptionInfo> info_;
  std::vector<std::shared_ptr<const std::string>> queue_;
  std::size_t queue_head_ = 0;
  std::size_t queued_bytes_ = 0;  // of the entries from queue_head_ on
  std::size_t in_flight_ = 0;
  std::chrono::steady_clock::time_point deadline_{};  // reading: give up after
  std::chrono::steady_clock::time_point write_started_{};
  std::chrono::steady_clock::time_point last_write_{};
  std::optional<std::chrono::system_clock::time_point> expires_at_;
  std::string request_id_;  // of the request being answered, or of the stream
  std::chrono::steady_clock::time_point request_started_{};
  State state_ = State::kReading;
  bool writing_ = false;
  bool keep_alive_ = false;
  bool closing_ = false;
  bool tracked_ = false;
  bool chunked_ = true;       // streaming: HTTP/1.1 chunks (else HTTP/1.0: raw events, close ends)
  bool head_unsent_ = false;  // streaming: the queue's first entry is the response head
  bool ending_ = false;       // streaming: no more updates; close once the queue is written
};

}  // namespace hub
