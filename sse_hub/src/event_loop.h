// One event loop of the hub: an io_context on its own thread with its own connections, its own
// subscriber index and selector cache (so dispatch never locks), and a periodic sweep for
// heartbeats, token expiry, read and write timeouts (one timer per loop, none per connection).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "hub_context.h"
#include "subscriber_index.h"
#include "topic_selector_store.h"

namespace hub {

class Connection;

class EventLoop {
 public:
  EventLoop(HubContext& hub, std::size_t index);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  boost::asio::io_context& context() { return context_; }
  TopicSelectorStore& selectors() { return selectors_; }
  SubscriberIndex& index() { return index_; }
  HubContext& hub() { return hub_; }
  std::size_t number() const { return number_; }

  void start();
  void stop();  // stops the io_context and joins the thread
  // From any thread: queue an update for this loop's subscribers.
  void post_update(const UpdatePtr& update);
  // From any thread: close streams and idle connections; busy ones close after their response.
  void post_drain();

  void track(Connection* connection);
  void untrack(Connection* connection);

 private:
  void deliver(const UpdatePtr& update);
  void schedule_sweep();
  void sweep();

  HubContext& hub_;
  std::size_t number_;
  boost::asio::io_context context_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::steady_timer sweep_timer_;
  std::chrono::milliseconds sweep_interval_;
  TopicSelectorStore selectors_;
  SubscriberIndex index_;
  std::vector<Connection*> connections_;
  std::thread thread_;
};

}  // namespace hub
