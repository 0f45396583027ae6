// The app's HTTP/1.1 server, event driven like the hub's: APP_THREADS event loops (one per core by
// default), one acceptor spreading connections over them up to APP_MAX_CONNECTIONS, and a
// graceful stop: stop accepting, close idle connections and event streams, let requests in flight
// finish, and give up after APP_DRAIN_TIMEOUT (the loops are then stopped and joined, so nothing
// runs on freed memory while the process exits).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "event_loop.h"
#include "server_context.h"
#include "stop_request.h"

namespace app {

class EventServer {
 public:
  EventServer(const ServerSettings& settings, RequestHandler& handler,
              shared::MetricsRegistry& metrics, std::string service);
  ~EventServer();
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  ServerContext& context() { return context_; }
  // Binds APP_LISTEN; returns the port (useful with port 0). Throws on failure.
  int bind();
  // Serves until stop is requested; true when every connection closed within the drain time.
  bool run(StopRequest& stop);

 private:
  void accept_next();

  ServerContext context_;
  shared::Counter& refused_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<boost::asio::steady_timer> accept_retry_;
  std::size_t next_loop_ = 0;
  int port_ = 0;
};

}  // namespace app
