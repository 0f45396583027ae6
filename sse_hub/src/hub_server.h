// The sse_hub server: one event loop per core, one acceptor spreading connections over them,
// the update bus that fans updates out to every loop, and a graceful stop (stop accepting, close
// streams and idle connections, let in-flight requests finish, give up after the drain time).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "event_loop.h"
#include "hub_config.h"
#include "hub_context.h"
#include "hub_metrics.h"
#include "shared/metrics.h"
#include "update_bus.h"

namespace hub {

class RedisBridge;

class HubServer {
 public:
  HubServer(HubConfig config, shared::MetricsRegistry& metrics);
  ~HubServer();
  HubServer(const HubServer&) = delete;
  HubServer& operator=(const HubServer&) = delete;

  // Binds HUB_LISTEN (and, with HUB_REDIS_URL, connects to Redis and loads the shared history);
  // returns the port (useful with port 0). Throws on failure.
  int bind();
  // Serves until stop(); returns true when every connection closed within the drain time.
  bool run();
  // From any thread (a signal watcher), more than once.
  void stop();

  HubContext& context() { return context_; }

 private:
  void accept_next();

  HubConfig config_;
  shared::MetricsRegistry& registry_;
  HubMetrics metrics_;
  UpdateBus bus_;
  HubContext context_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<boost::asio::steady_timer> accept_retry_;
  std::unique_ptr<RedisBridge> redis_;
  std::size_t next_loop_ = 0;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
};

}  // namespace hub
