#include "hub_server.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "connection.h"
#include "redis_bridge.h"
#include "shared/logging.h"

namespace hub {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// After the process runs out of file descriptors, wait a little before accepting again rather
// than spinning on the error.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
constexpr std::chrono::milliseconds kDrainPoll{20};

}  // namespace

HubServer::HubServer(HubConfig config, shared::MetricsRegistry& metrics)
    : config_(std::move(config)),
      registry_(metrics),
      metrics_(metrics),
      bus_(config_.history_size, config_.history_bytes),
      context_(config_, bus_, metrics_, metrics) {
  for (std::size_t i = 0; i < config_.threads; ++i)
    loops_.push_back(std::make_unique<EventLoop>(context_, i));
  for (auto& loop : loops_) {
    EventLoop* l = loop.get();
    bus_.add_listener([l](const UpdatePtr& update) { l->post_update(update); });
  }
  if (!config_.redis_url.empty()) {
    RedisBridge::Options options;
    options.channel = config_.redis_channel;
    options.history_size = config_.history_size;
    options.timeout = config_.redis_timeout;
    options.queue = config_.redis_queue;
    options.queue_bytes = config_.redis_queue_bytes;
    redis_ = std::make_unique<RedisBridge>(*parse_redis_url(config_.redis_url), std::move(options),
                                           bus_);
    context_.redis = redis_.get();
  }
  if (context_.publisher.has_keys() == false) {
    shared::log::warn("MERCURE_PUBLISHER_JWT_KEY is not set: every publish is refused with 401");
  }
  if (context_.subscriber.has_keys() == false) {
    shared::log::warn(
        config_.anonymous
            ? "MERCURE_SUBSCRIBER_JWT_KEY is not set: only anonymous subscribers to public updates"
            : "MERCURE_SUBSCRIBER_JWT_KEY is not set and MERCURE_ANONYMOUS is off: every "
              "subscriber is refused");
  }
}

HubServer::~HubServer() {
  if (redis_) redis_->stop();
  for (auto& loop : loops_) loop->stop();
}

int HubServer::bind() {
  auto& context = loops_.front()->context();
  const auto address = asio::ip::make_address(
      config_.listen.host == "localhost" ? "127.0.0.1" : config_.listen.host);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(config_.listen.port));
  acceptor_ = std::make_unique<tcp::acceptor>(context);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  accept_retry_ = std::make_unique<asio::steady_timer>(context);
  if (redis_) redis_->start();
  return acceptor_->local_endpoint().port();
}

void HubServer::accept_next() {
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
        if (context_.connections.load() >= config_.max_connections) {
          metrics_.refused.inc();
          boost::system::error_code ignored;
          socket.close(ignored);
          accept_next();
          return;
        }
        context_.connections.fetch_add(1);
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        asio::post(loop.context(), [socket = std::move(socket), &loop]() mutable {
          std::make_shared<Connection>(std::move(socket), loop)->start();
        });
        accept_next();
      });
}

bool HubServer::run() {
  for (auto& loop : loops_) loop->start();
  asio::post(loops_.front()->context(), [this] { accept_next(); });
  shared::log::info("sse_hub listening", {{"address", config_.listen.host},
                                          {"port", acceptor_->local_endpoint().port()},
                                          {"threads", loops_.size()},
                                          {"history_size", config_.history_size},
                                          {"anonymous", config_.anonymous},
                                          {"subscriptions", config_.subscriptions},
                                          {"redis", !config_.redis_url.empty()}});
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return stop_requested_; });
  }
  context_.stopping = true;
  shared::log::info("stopping: closing streams", {{"connections", context_.connections.load()}});
  asio::post(loops_.front()->context(), [this] {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    accept_retry_->cancel();
  });
  for (auto& loop : loops_) loop->post_drain();
  const auto deadline = std::chrono::steady_clock::now() + config_.drain_timeout;
  while (context_.connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kDrainPoll);
  }
  const bool drained = context_.connections.load() == 0;
  if (redis_) redis_->stop();
  for (auto& loop : loops_) loop->stop();
  return drained;
}

void HubServer::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

}  // namespace hub
