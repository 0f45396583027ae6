#include "upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

namespace app {

namespace asio = boost::asio;

namespace {

// True when the upstream has closed the connection or sent something unasked (either way it is
// not reusable).
bool closed_or_dirty(asio::ip::tcp::socket& socket) {
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace

UpstreamPool::UpstreamPool(asio::io_context& context, const std::string& address, int port,
                           std::size_t max_idle)
    : context_(context),
      endpoint_(asio::ip::make_address(address), static_cast<unsigned short>(port)),
      max_idle_(max_idle) {}

std::optional<asio::ip::tcp::socket> UpstreamPool::take() {
  const auto now = std::chrono::steady_clock::now();
  while (!idle_.empty()) {
    Idle entry = std::move(idle_.back());
    idle_.pop_back();
    if (now - entry.since > kIdleLifetime || closed_or_dirty(entry.socket)) continue;
    return std::move(entry.socket);
  }
  return std::nullopt;
}

void UpstreamPool::give_back(asio::ip::tcp::socket socket) {
  if (max_idle_ == 0 || !socket.is_open()) return;
  if (idle_.size() >= max_idle_) idle_.pop_front();
  idle_.push_back(Idle{std::move(socket), std::chrono::steady_clock::now()});
}

void UpstreamPool::drop_stale(std::chrono::steady_clock::time_point now) {
  while (!idle_.empty() && now - idle_.front().since > kIdleLifetime) idle_.pop_front();
}

}  // namespace app
