#include "request_driver.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include "http_response_parser.h"
#include "loopback_socket.h"

namespace bench {
namespace {

constexpr int kEpollBatch = 256;
constexpr std::size_t kReadBufferBytes = 64 * 1024;
constexpr int64_t kTickNs = 100'000'000;

struct Connection {
  int fd = -1;
  bool connecting = false;
  bool busy = false;
  HttpResponseParser parser;
  std::string out;
  std::size_t out_sent = 0;
  uint64_t request = 0;
  int64_t sent_ns = 0;
};

class Driver {
 public:
  Driver(const RequestDriverSettings& settings, const RequestHooks& hooks)
      : settings_(settings),
        hooks_(hooks),
        connections_(static_cast<std::size_t>(std::max(1, settings.connections))) {}

  RequestDriverResult run() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < connections_.size(); ++i) open(i);
    const int64_t start = monotonic_ns();
    const int64_t stop_sending = start + static_cast<int64_t>(settings_.seconds * 1e9);
    const int64_t hard_stop = stop_sending + int64_t{settings_.drain_ms} * 1'000'000;
    int64_t next_tick = start;
    std::array<epoll_event, kEpollBatch> events{};
    std::vector<char> buffer(kReadBufferBytes);
    while (true) {
      int64_t now = monotonic_ns();
      if (now >= hard_stop) break;
      const bool sending = now < stop_sending;
      if (!sending && std::none_of(connections_.begin(), connections_.end(),
                                   [](const Connection& c) { return c.busy; })) {
        break;
      }
      if (sending) send_due(start, now);
      int wait_ms = 5;
      if (sending && settings_.rate > 0) {
        const double next_due_s = static_cast<double>(result_.sent + 1) / settings_.rate;
        const int64_t due_ns = start + static_cast<int64_t>(next_due_s * 1e9);
        wait_ms = static_cast<int>(std::clamp<int64_t>((due_ns - now) / 1'000'000, 0, 5));
      }
      const int ready = epoll_wait(epoll_fd_, events.data(), kEpollBatch, wait_ms);
      now = monotonic_ns();
      for (int i = 0; i < ready; ++i) handle(events[i].data.u64, events[i].events, buffer, now);
      expire(now);
      if (now >= next_tick) {
        next_tick = now + kTickNs;
        if (hooks_.on_tick) hooks_.on_tick(now);
      }
    }
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      if (connections_[i].busy) fail(i, "unfinished at end");
      close_connection(i);
    }
    close(epoll_fd_);
    result_.elapsed_seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
    return result_;
  }

 private:
  void open(std::size_t index) {
    Connection& c = connections_[index];
    c.parser.reset();
    c.busy = false;
    c.out.clear();
    c.out_sent = 0;
    const int fd = start_connect(settings_.source, settings_.destination, settings_.port);
    if (fd < 0) {
      ++result_.outcomes[std::string("connect: ") + std::strerror(-fd)];
      c.fd = -1;
      return;
    }
    c.fd = fd;
    c.connecting = true;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    event.data.u64 = index;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }

  void close_connection(std::size_t index) {
    Connection& c = connections_[index];
    if (c.fd >= 0) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
      c.fd = -1;
    }
  }

  void fail(std::size_t index, const std::string& why) {
    Connection& c = connections_[index];
    if (c.busy) {
      ++result_.failed;
      ++result_.outcomes[why];
      if (hooks_.on_response) hooks_.on_response(c.request, 0);
      c.busy = false;
    }
  }

  void replace(std::size_t index, const std::string& why) {
    fail(index, why);
    close_connection(index);
    ++result_.reconnects;
    open(index);
  }

  void send_due(int64_t start, int64_t now) {
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      Connection& c = connections_[i];
      if (c.fd < 0) {
        // The connect itself failed earlier: retry at most once per call.
        open(i);
        continue;
      }
      if (c.busy) continue;
      int64_t scheduled = now;
      if (settings_.rate > 0) {
        scheduled =
            start + static_cast<int64_t>(static_cast<double>(result_.sent) / settings_.rate * 1e9);
        if (scheduled > now) return;
        result_.send_lag_us.record((now - scheduled) / 1000);
      }
      const uint64_t n = result_.sent++;
      c.out = hooks_.build(n);
      c.out_sent = 0;
      c.request = n;
      c.sent_ns = now;
      c.busy = true;
      if (!c.connecting) flush(i);
    }
  }

  void flush(std::size_t index) {
    Connection& c = connections_[index];
    while (c.out_sent < c.out.size()) {
      const ssize_t n = write(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent);
      if (n > 0) {
        c.out_sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        return;  // EPOLLOUT stays armed
      } else {
        return replace(index, std::string("write: ") + std::strerror(errno));
      }
    }
  }

  void handle(std::size_t index, uint32_t flags, std::vector<char>& buffer, int64_t now) {
    Connection& c = connections_[index];
    if (c.fd < 0) return;
    if (c.connecting && (flags & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
      const int error = connect_result(c.fd);
      if (error != 0) return replace(index, std::string("connect: ") + std::strerror(error));
      c.connecting = false;
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP;
      event.data.u64 = index;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &event);
    }
    if (c.busy && c.out_sent < c.out.size()) flush(index);
    if (c.fd < 0 || (flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0) return;
    const ssize_t got = read(c.fd, buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return replace(index, std::string("read: ") + std::strerror(errno));
    }
    if (got == 0) {
      if (c.busy && c.parser.finish_on_close() == HttpResponseParser::Status::kComplete) {
        complete(index, now);
      }
      return replace(index, "closed by server");
    }
    std::string_view bytes(buffer.data(), static_cast<std::size_t>(got));
    // Several responses can arrive at once only if something else pipelined; handle each.
    for (int round = 0; round < 64 && !bytes.empty(); ++round) {
      if (!c.busy) return replace(index, "unexpected bytes");
      std::size_t consumed = 0;
      const auto status = c.parser.feed(
          bytes, [](std::string_view) {}, consumed);
      bytes.remove_prefix(std::min(consumed, bytes.size()));
      if (status == HttpResponseParser::Status::kError)
        return replace(index, "protocol: " + c.parser.error());
      if (status == HttpResponseParser::Status::kNeedMore) return;
      const bool keep_alive = c.parser.keep_alive();
      complete(index, now);
      if (!keep_alive) return replace(index, "server closed keep-alive");
    }
  }

  void complete(std::size_t index, int64_t now) {
    Connection& c = connections_[index];
    const int status = c.parser.status_code();
    result_.latency_us.record((now - c.sent_ns) / 1000);
    ++result_.outcomes[std::to_string(status)];
    if (status >= 200 && status < 300) {
      ++result_.ok;
    } else {
      ++result_.failed;
    }
    if (hooks_.on_response) hooks_.on_response(c.request, status);
    c.busy = false;
    c.parser.reset();
  }

  void expire(int64_t now) {
    const int64_t limit = int64_t{settings_.request_timeout_ms} * 1'000'000;
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      if (connections_[i].busy && now - connections_[i].sent_ns > limit) replace(i, "timeout");
    }
  }

  const RequestDriverSettings& settings_;
  const RequestHooks& hooks_;
  std::vector<Connection> connections_;
  int epoll_fd_ = -1;
  RequestDriverResult result_;
};

}  // namespace

RequestDriverResult drive_requests(const RequestDriverSettings& settings,
                                   const RequestHooks& hooks) {
  Driver driver(settings, hooks);
  return driver.run();
}

}  // namespace bench
