#include "event_loop.h"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "exchange.h"
#include "server_connection.h"
#include "server_context.h"
#include "shared/logging.h"
#include "upstream_pool.h"

namespace app {

namespace asio = boost::asio;

namespace {

// Often enough for the shortest timeout it enforces, at most 20 times a second.
std::chrono::milliseconds sweep_interval_for(const ServerSettings& s) {
  auto interval = std::min({std::chrono::milliseconds(1000), s.read_timeout / 4,
                            s.write_timeout / 4, s.keep_alive_timeout / 4});
  return std::max(interval, std::chrono::milliseconds(50));
}

}  // namespace

EventLoop::EventLoop(ServerContext& server, std::size_t number)
    : server_(server),
      number_(number),
      context_(std::make_unique<asio::io_context>(1)),
      sweep_interval_(sweep_interval_for(server.settings)),
      mailbox_(std::make_shared<Mailbox>()) {
  sweep_timer_.emplace(*context_);
  mailbox_->context = context_.get();
}

EventLoop::~EventLoop() {
  stop();
  // Pending handlers own connections and relays; they are destroyed with the io_context, while
  // everything they may touch (this loop's lists and pools) still exists.
  pools_.clear();
  sweep_timer_.reset();
  context_.reset();
}

void EventLoop::start() {
  work_.emplace(context_->get_executor());
  schedule_sweep();
  thread_ = std::thread([this] {
    for (;;) {
      try {
        context_->run();
        return;
      } catch (const std::exception& e) {
        // A handler that throws must not take the loop (and every connection on it) down.
        shared::log::error("event loop handler failed", {{"loop", number_}, {"error", e.what()}});
      }
    }
  });
}

void EventLoop::stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(mailbox_->mutex);
    mailbox_->context = nullptr;
  }
  auto close_all = [this] {
    sweep_timer_->cancel();
    std::vector<std::shared_ptr<ServerConnection>> open;
    open.reserve(connections_.size());
    for (ServerConnection* c : connections_) open.push_back(c->shared_from_this());
    for (auto& c : open) c->close();
    parked_.clear();
    for (auto& [key, pool] : pools_) pool->clear();
    work_.reset();
    context_->stop();
  };
  if (thread_.joinable()) {
    asio::post(*context_, close_all);
    thread_.join();
  } else {
    close_all();
  }
}

void EventLoop::post(std::function<void()> fn) {
  std::lock_guard lock(mailbox_->mutex);
  if (mailbox_->context) asio::post(*mailbox_->context, std::move(fn));
}

RemotePost EventLoop::remote() const {
  return [mailbox = mailbox_](std::function<void()> fn) {
    std::lock_guard lock(mailbox->mutex);
    if (mailbox->context) asio::post(*mailbox->context, std::move(fn));
  };
}

std::uint64_t EventLoop::park(std::shared_ptr<Exchange> exchange) {
  const std::uint64_t id = ++next_park_id_;
  parked_.emplace(id, std::move(exchange));
  return id;
}

std::shared_ptr<Exchange> EventLoop::unpark(std::uint64_t id) {
  const auto it = parked_.find(id);
  if (it == parked_.end()) return nullptr;
  auto exchange = std::move(it->second);
  parked_.erase(it);
  return exchange;
}

void EventLoop::post_drain() {
  post([this] {
    std::vector<std::shared_ptr<ServerConnection>> now;
    for (ServerConnection* c : connections_) {
      if (c->drain()) now.push_back(c->shared_from_this());
    }
    for (auto& c : now) c->close();
  });
}

void EventLoop::track(ServerConnection* connection) {
  connection->slot = connections_.size();
  connections_.push_back(connection);
}

void EventLoop::untrack(ServerConnection* connection) {
  const std::size_t slot = connection->slot;
  if (slot >= connections_.size() || connections_[slot] != connection) return;
  connections_[slot] = connections_.back();
  connections_[slot]->slot = slot;
  connections_.pop_back();
}

UpstreamPool& EventLoop::upstream_pool(const std::string& address, int port) {
  const std::string key = address + ":" + std::to_string(port);
  auto& pool = pools_[key];
  if (!pool)
    pool =
        std::make_unique<UpstreamPool>(*context_, address, port, server_.upstream_idle_connections);
  return *pool;
}

void EventLoop::schedule_sweep() {
  sweep_timer_->expires_after(sweep_interval_);
  sweep_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    sweep();
    schedule_sweep();
  });
}

void EventLoop::sweep() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<ServerConnection>> expired;
  // expired() may answer (408) and so change the list: walk a copy.
  const std::vector<ServerConnection*> snapshot = connections_;
  for (ServerConnection* c : snapshot) {
    if (c->expired(now)) expired.push_back(c->shared_from_this());
  }
  for (auto& c : expired) c->close();
  for (auto& [key, pool] : pools_) pool->drop_stale(now);
}

}  // namespace app
