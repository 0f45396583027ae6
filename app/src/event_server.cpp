#include "event_server.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include "server_connection.h"
#include "shared/logging.h"

namespace app {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// After the process runs out of file descriptors, wait a little before accepting again rather
// than spinning on the error.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
constexpr std::chrono::milliseconds kDrainPoll{20};

}  // namespace

EventServer::EventServer(const ServerSettings& settings, RequestHandler& handler,
                         shared::MetricsRegistry& metrics, std::string service)
    : context_(settings, handler, metrics, std::move(service)),
      refused_(metrics.counter("app_connections_refused_total",
                               "connections closed at once over APP_MAX_CONNECTIONS")) {
  // The service's request counter exists from the start, as with the other services.
  metrics.counter("http_requests_total", "HTTP requests served", {{"service", context_.service}});
  for (std::size_t i = 0; i < settings.event_loops; ++i)
    loops_.push_back(std::make_unique<EventLoop>(context_, i));
}

EventServer::~EventServer() {
  for (auto& loop : loops_) loop->stop();
  acceptor_.reset();
  accept_retry_.reset();
  loops_.clear();
}

int EventServer::bind() {
  auto& io = loops_.front()->context();
  const auto& listen = context_.settings.listen;
  const auto address =
      asio::ip::make_address(listen.host == "localhost" ? "127.0.0.1" : listen.host);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(listen.port));
  acceptor_ = std::make_unique<tcp::acceptor>(io);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  accept_retry_ = std::make_unique<asio::steady_timer>(io);
  port_ = acceptor_->local_endpoint().port();
  return port_;
}

void EventServer::accept_next() {
  EventLoop& loop = *loops_[next_loop_++ % loops_.size()];
  acceptor_->async_accept(
      loop.context(), [this, &loop](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
        if (ec) {
          shared::log::warn("accept failed", {{"error", ec.message()}});
          accept_retry_->expires_after(kAcceptRetryDelay);
          accept_retry_->async_wait([this](boost::system::error_code timer_ec) {
            if (!timer_ec && acceptor_->is_open()) accept_next();
          });
          return;
        }
        if (context_.connections.load() >= context_.settings.max_connections) {
          refused_.inc();
          boost::system::error_code ignored;
          socket.close(ignored);
          accept_next();
          return;
        }
        context_.connections.fetch_add(1);
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        asio::post(loop.context(), [socket = std::move(socket), &loop]() mutable {
          std::make_shared<ServerConnection>(std::move(socket), loop)->start();
        });
        accept_next();
      });
}

bool EventServer::run(StopRequest& stop) {
  for (auto& loop : loops_) loop->start();
  asio::post(loops_.front()->context(), [this] { accept_next(); });
  const auto& listen = context_.settings.listen;
  shared::log::info("listening", {{"address", listen.host + ":" + std::to_string(port_)},
                                  {"event_loops", loops_.size()},
                                  {"max_connections", context_.settings.max_connections}});
  stop.wait();
  context_.stopping = true;
  shared::log::info("stopping: closing idle connections and streams",
                    {{"connections", context_.connections.load()}});
  loops_.front()->post([this] {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    accept_retry_->cancel();
  });
  for (auto& loop : loops_) loop->post_drain();
  const auto deadline = std::chrono::steady_clock::now() + context_.settings.drain_timeout;
  while (context_.connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kDrainPoll);
  }
  const bool drained = context_.connections.load() == 0;
  if (!drained)
    shared::log::warn(
        "drain time ran out with requests in flight",
        {{"connections", context_.connections.load()},
         {"drain_ms", static_cast<std::int64_t>(context_.settings.drain_timeout.count())}});
  for (auto& loop : loops_) loop->stop();
  return drained;
}

}  // namespace app
