// One event loop of the app's server: an io_context on its own thread with its own client
// connections, its own idle connections to the upstreams (so a relay never takes a lock), and one
// periodic sweep that enforces the client timeouts of all its connections (no timer per
// connection). Work from other threads (the blocking pool's key fetches) comes in through post(),
// which is safe even after the loop is gone.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace app {

class Exchange;
class ServerConnection;
class UpstreamPool;
struct ServerContext;

// Runs a function on a loop from any thread, or drops it once the loop has stopped; may outlive
// the loop.
using RemotePost = std::function<void(std::function<void()>)>;

class EventLoop {
 public:
  EventLoop(ServerContext& server, std::size_t number);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  boost::asio::io_context& context() { return *context_; }
  ServerContext& server() { return server_; }
  std::size_t number() const { return number_; }

  void start();
  // Closes every connection, stops the io_context and joins the thread. Idempotent.
  void stop();
  // From any thread: close idle connections and those that close on drain (hub streams); busy
  // ones close after their response.
  void post_drain();
  // From any thread, at any time: runs fn on this loop, or drops it when the loop has stopped.
  void post(std::function<void()> fn);
  RemotePost remote() const;

  // Keeps an exchange that waits for work on another thread (its owner while it waits), so that
  // only an id crosses threads. unpark returns null when it is gone (aborted, or the loop stopped).
  std::uint64_t park(std::shared_ptr<Exchange> exchange);
  std::shared_ptr<Exchange> unpark(std::uint64_t id);

  void track(ServerConnection* connection);
  void untrack(ServerConnection* connection);

  // Where this loop's connections read into before keeping what arrived: a connection's own
  // buffer then grows only by what it was sent, not by a whole read's worth.
  std::span<char> read_scratch() { return read_scratch_; }

  // This loop's idle connections to one upstream ("address:port").
  UpstreamPool& upstream_pool(const std::string& address, int port);

 private:
  struct Mailbox {
    std::mutex mutex;
    boost::asio::io_context* context = nullptr;  // null once the loop has stopped
  };

  void schedule_sweep();
  void sweep();

  ServerContext& server_;
  std::size_t number_;
  std::unique_ptr<boost::asio::io_context> context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::optional<boost::asio::steady_timer> sweep_timer_;
  std::chrono::milliseconds sweep_interval_;
  std::shared_ptr<Mailbox> mailbox_;
  std::vector<ServerConnection*> connections_;
  std::map<std::string, std::unique_ptr<UpstreamPool>> pools_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Exchange>> parked_;
  std::uint64_t next_park_id_ = 0;
  std::vector<char> read_scratch_ = std::vector<char>(16 * 1024);
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace app
