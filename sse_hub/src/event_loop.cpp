#include "event_loop.h"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "connection.h"
#include "shared/logging.h"

namespace hub {

namespace asio = boost::asio;

namespace {

// Sweeps often enough for the shortest timer they serve, but not more than 20 times a second.
std::chrono::milliseconds sweep_interval_for(const HubConfig& c) {
  std::chrono::milliseconds interval{1000};
  if (c.heartbeat.count() > 0) interval = std::min(interval, c.heartbeat / 2);
  interval = std::min({interval, c.write_timeout / 2, c.read_timeout / 2});
  return std::max(interval, std::chrono::milliseconds(50));
}

}  // namespace

EventLoop::EventLoop(HubContext& hub, std::size_t number)
    : hub_(hub),
      number_(number),
      sweep_timer_(context_),
      sweep_interval_(sweep_interval_for(hub.config)),
      selectors_(hub.config.selector_cache, hub.config.selector_cache_bytes) {}

void EventLoop::start() {
  work_.emplace(context_.get_executor());
  schedule_sweep();
  thread_ = std::thread([this] {
    for (;;) {
      try {
        context_.run();
        return;
      } catch (const std::exception& e) {
        // A handler that throws must not take the whole loop (and its subscribers) down.
        shared::log::error("event loop handler failed", {{"loop", number_}, {"error", e.what()}});
      }
    }
  });
}

void EventLoop::stop() {
  asio::post(context_, [this] {
    sweep_timer_.cancel();
    std::vector<std::shared_ptr<Connection>> open;
    for (Connection* c : connections_) open.push_back(c->shared_from_this());
    for (auto& c : open) c->close();
    work_.reset();
    // Whatever is still queued (connections accepted but not started) is dropped with the context.
    context_.stop();
  });
  if (thread_.joinable()) thread_.join();
}

EventLoop::~EventLoop() {
  if (thread_.joinable()) stop();
}

void EventLoop::post_update(const UpdatePtr& update) {
  asio::post(context_, [this, update] { deliver(update); });
}

void EventLoop::post_drain() {
  asio::post(context_, [this] {
    std::vector<std::shared_ptr<Connection>> now;
    for (Connection* c : connections_) {
      if (c->drain()) now.push_back(c->shared_from_this());
    }
    for (auto& c : now) c->close();
  });
}

void EventLoop::track(Connection* connection) {
  connection->slot = connections_.size();
  connections_.push_back(connection);
}

void EventLoop::untrack(Connection* connection) {
  const std::size_t slot = connection->slot;
  if (slot >= connections_.size() || connections_[slot] != connection) return;
  connections_[slot] = connections_.back();
  connections_[slot]->slot = slot;
  connections_.pop_back();
}

void EventLoop::deliver(const UpdatePtr& update) {
  const std::size_t reached =
      index_.dispatch(*update, selectors_, [&update](Subscriber& s) { s.sink->deliver(update); });
  if (reached > 0) hub_.metrics.delivered.inc(static_cast<double>(reached));
  hub_.metrics.dispatch_latency.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - update->accepted_at)
          .count());
}

void EventLoop::schedule_sweep() {
  sweep_timer_.expires_after(sweep_interval_);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    sweep();
    schedule_sweep();
  });
}

void EventLoop::sweep() {
  const auto now = std::chrono::steady_clock::now();
  const auto wall = std::chrono::system_clock::now();
  std::vector<std::shared_ptr<Connection>> to_close;
  for (Connection* c : connections_) {
    if (c->on_sweep(now, wall) == Connection::SweepAction::kClose)
      to_close.push_back(c->shared_from_this());
  }
  for (auto& c : to_close) c->close();
}

}  // namespace hub
