// One client connection of the hub, on one event loop: reads HTTP/1.1 requests (Boost.Beast
// parser, only while a request is being read), answers plain requests with keep-alive, or turns
// into an event stream that writes shared, pre-encoded update frames from a bounded queue.
// Small on purpose: an idle subscriber is a socket, a Subscriber and a few fields.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_response.h"
#include "subscriber.h"
#include "subscription_registry.h"
#include "update.h"

namespace hub {

class EventLoop;
struct HubContext;

// What a subscribe request turns into: the response head and first bytes, the registered
// subscriber, the updates to replay, and when its token expires.
struct StreamStart {
  std::string head;  // status line and headers, then the first chunks (comments)
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
  // Called by the loop's sweep; may queue a heartbeat, or ask to be closed.
  SweepAction on_sweep(std::chrono::steady_clock::time_point now, std::chrono::system_clock::time_point wall);
  // Shutdown: streams and idle connections close now, busy ones after their response.
  bool drain();
  void close();

  std::size_t slot = 0;  // position in the loop's connection list

 private:
  struct Reader;
  enum class State : unsigned char { kReading, kResponding, kStreaming, kClosed };

  void read_request();
  void on_read(boost::system::error_code ec);
  void respond(const HttpResponse& response, bool keep_alive);
  void begin_stream(StreamStart start);
  void enqueue(std::shared_ptr<const std::string> bytes);
  void write_queued();
  void on_written(boost::system::error_code ec);
  void watch_for_close();
  void close_soon();

  boost::asio::ip::tcp::socket socket_;
  EventLoop& loop_;
  std::unique_ptr<Reader> reader_;
  std::unique_ptr<Subscriber> subscriber_;
  std::shared_ptr<const SubscriptionInfo> info_;
  std::vector<std::shared_ptr<const std::string>> queue_;
  std::size_t queue_head_ = 0;
  std::size_t queued_bytes_ = 0;  // of the entries from queue_head_ on
  std::size_t in_flight_ = 0;
  std::chrono::steady_clock::time_point deadline_{};       // reading: give up after
  std::chrono::steady_clock::time_point write_started_{};
  std::chrono::steady_clock::time_point last_write_{};
  std::optional<std::chrono::system_clock::time_point> expires_at_;
  State state_ = State::kReading;
  bool writing_ = false;
  bool keep_alive_ = false;
  bool closing_ = false;
  bool tracked_ = false;
};

}  // namespace hub
