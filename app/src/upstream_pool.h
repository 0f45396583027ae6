// One event loop's idle keep-alive connections to one upstream. A relay takes one (or gets a new
// socket to connect), and gives it back when its exchange ended cleanly with keep-alive. Bounded
// (APP_UPSTREAM_IDLE), and an idle connection is dropped after kIdleLifetime, before the upstream
// would close it itself (the agent's server closes idle connections after 5 s), so a connection
// taken from here is seldom one the upstream has just closed; one that the upstream has closed
// anyway is seen (readable with EOF) and dropped instead of being used.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <string>

namespace app {

class UpstreamPool {
 public:
  static constexpr std::chrono::milliseconds kIdleLifetime{3'000};

  UpstreamPool(boost::asio::io_context& context, const std::string& address, int port,
               std::size_t max_idle);

  const boost::asio::ip::tcp::endpoint& endpoint() const { return endpoint_; }
  boost::asio::io_context& context() { return context_; }
  // An idle connection that still looks open, if there is one.
  std::optional<boost::asio::ip::tcp::socket> take();
  void give_back(boost::asio::ip::tcp::socket socket);
  void drop_stale(std::chrono::steady_clock::time_point now);
  void clear() { idle_.clear(); }
  std::size_t idle() const { return idle_.size(); }

 private:
  struct Idle {
    boost::asio::ip::tcp::socket socket;
    std::chrono::steady_clock::time_point since;
  };

  boost::asio::io_context& context_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::size_t max_idle_;
  std::deque<Idle> idle_;  // most recently returned at the back
};

}  // namespace app
