#include "subscriber_shard.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "http_response_parser.h"
#include "latency_histogram.h"
#include "loopback_socket.h"
#include "sse_event_parser.h"

namespace bench {
namespace {

constexpr uint64_t kCommandTag = ~uint64_t{0};
constexpr std::size_t kReadBufferBytes = 64 * 1024;
constexpr int kEpollBatch = 512;
constexpr int kLoopTickMs = 20;
constexpr std::size_t kMaxCommandLineBytes = 4096;

enum class Phase { kIdle, kConnecting, kAwaitingHeaders, kStreaming, kStopped, kFailed };

struct Subscriber {
  int fd = -1;
  Phase phase = Phase::kIdle;
  HttpResponseParser http;
  SseEventParser sse;
  std::string request;
  std::size_t request_sent = 0;
  std::string last_event_id;
  int64_t last_seq = -1;
  int64_t started_ns = 0;
  bool caught_up = false;
};

struct ShardCounters {
  uint64_t connected = 0;
  uint64_t connect_failed = 0;
  uint64_t connect_timeouts = 0;
  uint64_t bad_status = 0;
  uint64_t protocol_errors = 0;
  uint64_t closed_by_server = 0;
  uint64_t slow_closed_by_server = 0;
  uint64_t deliveries = 0;
  uint64_t unstamped_events = 0;
  uint64_t out_of_order = 0;  // seq not above the last one seen: a duplicate or a reordering
  uint64_t caught_up = 0;
  std::map<std::string, uint64_t> errors;  // errno text / status -> count
};

class Shard {
 public:
  Shard(const PubSubProtocol& protocol, ShardSettings settings, int command_fd, int report_fd)
      : protocol_(protocol),
        settings_(std::move(settings)),
        command_fd_(command_fd),
        report_fd_(report_fd),
        subscribers_(settings_.subscribers.size()) {}

  int run() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return 1;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = kCommandTag;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, command_fd_, &event);
    begin_wave(/*resume=*/false);
    std::array<epoll_event, kEpollBatch> events{};
    std::vector<char> buffer(kReadBufferBytes);
    while (!quit_) {
      start_connects();
      const int ready = epoll_wait(epoll_fd_, events.data(), kEpollBatch, kLoopTickMs);
      if (ready < 0 && errno != EINTR) return 1;
      const int64_t now = monotonic_ns();
      for (int i = 0; i < ready; ++i) {
        if (events[i].data.u64 == kCommandTag) {
          read_commands();
          continue;
        }
        handle_event(events[i].data.u64, events[i].events, buffer, now);
      }
      expire_pending(now);
      announce_wave_end(now);
    }
    for (std::size_t i = 0; i < subscribers_.size(); ++i) close_subscriber(i, Phase::kStopped);
    return 0;
  }

 private:
  void begin_wave(bool resume) {
    wave_started_ns_ = monotonic_ns();
    wave_announced_ = false;
    wave_ok_ = 0;
    wave_failed_ = 0;
    setup_ = LatencyHistogram{};
    next_to_connect_ = 0;
    for (std::size_t i = 0; i < subscribers_.size(); ++i) {
      close_subscriber(i, Phase::kIdle);
      Subscriber& s = subscribers_[i];
      s.request = protocol_.subscribe_request(settings_.subscribers[i].topic,
                                              resume ? s.last_event_id : std::string{});
      s.phase = Phase::kIdle;
      s.caught_up = false;
    }
  }

  void start_connects() {
    while (pending_ < settings_.max_pending_connects && next_to_connect_ < subscribers_.size()) {
      const std::size_t index = next_to_connect_++;
      const SubscriberSpec& spec = settings_.subscribers[index];
      Subscriber& s = subscribers_[index];
      s.http.reset();
      s.sse = SseEventParser{};
      s.request_sent = 0;
      s.started_ns = monotonic_ns();
      const int fd = start_connect(spec.source, spec.destination, spec.port,
                                   spec.slow ? settings_.slow_receive_buffer : 0);
      if (fd < 0) {
        count_error(std::string("connect: ") + std::strerror(-fd));
        ++counters_.connect_failed;
        ++wave_failed_;
        s.phase = Phase::kFailed;
        continue;
      }
      s.fd = fd;
      s.phase = Phase::kConnecting;
      ++pending_;
      epoll_event event{};
      event.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
      event.data.u64 = index;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    }
  }

  void count_error(const std::string& what) { ++counters_.errors[what]; }

  void close_subscriber(std::size_t index, Phase phase) {
    Subscriber& s = subscribers_[index];
    if (s.phase == Phase::kConnecting || s.phase == Phase::kAwaitingHeaders) --pending_;
    if (s.fd >= 0) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.fd, nullptr);
      close(s.fd);
      s.fd = -1;
    }
    s.phase = phase;
  }

  void fail_pending(std::size_t index, const std::string& why) {
    count_error(why);
    ++counters_.connect_failed;
    ++wave_failed_;
    close_subscriber(index, Phase::kFailed);
  }

  void handle_event(std::size_t index, uint32_t flags, std::vector<char>& buffer, int64_t now) {
    Subscriber& s = subscribers_[index];
    if (s.fd < 0) return;
    if (s.phase == Phase::kConnecting) {
      if ((flags & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
      const int error = connect_result(s.fd);
      if (error != 0) return fail_pending(index, std::string("connect: ") + std::strerror(error));
      s.phase = Phase::kAwaitingHeaders;
    }
    if (s.request_sent < s.request.size()) {
      const ssize_t sent =
          write(s.fd, s.request.data() + s.request_sent, s.request.size() - s.request_sent);
      if (sent < 0 && errno != EAGAIN)
        return fail_pending(index, std::string("write: ") + std::strerror(errno));
      if (sent > 0) s.request_sent += static_cast<std::size_t>(sent);
      if (s.request_sent == s.request.size()) {
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.u64 = index;
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &event);
      }
    }
    if (s.phase == Phase::kStreaming && settings_.subscribers[index].slow) {
      // A slow consumer reads nothing; it only notices the server hanging up.
      if ((flags & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        ++counters_.slow_closed_by_server;
        close_subscriber(index, Phase::kStopped);
      }
      return;
    }
    if ((flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0) return;
    const ssize_t got = read(s.fd, buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return on_closed(index, std::string("read: ") + std::strerror(errno));
    }
    if (got == 0) return on_closed(index, "closed by server");
    consume(index, std::string_view(buffer.data(), static_cast<std::size_t>(got)), now);
  }

  void on_closed(std::size_t index, const std::string& why) {
    Subscriber& s = subscribers_[index];
    if (s.phase == Phase::kStreaming) {
      ++counters_.closed_by_server;
      count_error(why);
      close_subscriber(index, Phase::kStopped);
    } else {
      fail_pending(index, why);
    }
  }

  void consume(std::size_t index, std::string_view bytes, int64_t now) {
    Subscriber& s = subscribers_[index];
    bool sse_ok = true;
    const auto on_event = [&](const SseEvent& event) { on_update(s, event, now); };
    const auto on_body = [&](std::string_view body) {
      if (sse_ok) sse_ok = s.sse.feed(body, on_event);
    };
    std::size_t consumed = 0;
    const auto status = s.http.feed(bytes, on_body, consumed);
    if (status == HttpResponseParser::Status::kError || !sse_ok) {
      ++counters_.protocol_errors;
      return on_closed(index,
                       "protocol: " + (sse_ok ? s.http.error() : std::string("event too large")));
    }
    if (s.phase == Phase::kAwaitingHeaders && s.http.headers_done()) {
      if (s.http.status_code() != 200) {
        ++counters_.bad_status;
        return fail_pending(index, "status " + std::to_string(s.http.status_code()));
      }
      s.phase = Phase::kStreaming;
      --pending_;
      ++counters_.connected;
      ++wave_ok_;
      setup_.record((now - s.started_ns) / 1000);
      last_connected_ns_ = now;
      if (settings_.subscribers[index].slow) {
        epoll_event event{};
        event.events = EPOLLRDHUP;
        event.data.u64 = index;
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &event);
      }
    }
    if (status == HttpResponseParser::Status::kComplete) on_closed(index, "stream ended");
  }

  void on_update(Subscriber& s, const SseEvent& event, int64_t now) {
    if (!event.id.empty()) s.last_event_id.assign(event.id);
    int64_t seq = 0;
    int64_t sent_ns = 0;
    if (!parse_update_stamp(event.data, seq, sent_ns)) {
      ++counters_.unstamped_events;
      return;
    }
    if (seq <= s.last_seq) ++counters_.out_of_order;
    s.last_seq = std::max(s.last_seq, seq);
    if (seq >= first_measured_seq_) {
      ++counters_.deliveries;
      latency_.record((now - sent_ns) / 1000);
    }
    if (catch_up_seq_ >= 0 && !s.caught_up && seq >= catch_up_seq_) {
      s.caught_up = true;
      ++counters_.caught_up;
      catch_up_.record((now - catch_up_from_ns_) / 1000);
    }
  }

  void expire_pending(int64_t now) {
    if (pending_ == 0 || now - last_expiry_scan_ns_ < 100'000'000) return;
    last_expiry_scan_ns_ = now;
    const int64_t limit = int64_t{settings_.connect_timeout_ms} * 1'000'000;
    for (std::size_t i = 0; i < subscribers_.size(); ++i) {
      const Subscriber& s = subscribers_[i];
      if ((s.phase == Phase::kConnecting || s.phase == Phase::kAwaitingHeaders) &&
          now - s.started_ns > limit) {
        ++counters_.connect_timeouts;
        fail_pending(i, "connect timeout");
      }
    }
  }

  void announce_wave_end(int64_t now) {
    if (wave_announced_ || pending_ > 0 || next_to_connect_ < subscribers_.size()) return;
    wave_announced_ = true;
    const int64_t end = wave_ok_ > 0 ? last_connected_ns_ : now;
    nlohmann::json line = {{"ok", wave_ok_},
                           {"failed", wave_failed_},
                           {"seconds", static_cast<double>(end - wave_started_ns_) / 1e9},
                           {"setup_us", setup_.serialize()}};
    send_line("connected " + line.dump());
  }

  nlohmann::json report() const {
    uint64_t slow = 0;
    for (const auto& spec : settings_.subscribers) slow += spec.slow ? 1 : 0;
    return {{"subscribers", subscribers_.size()},
            {"slow_subscribers", slow},
            {"connected", counters_.connected},
            {"connect_failed", counters_.connect_failed},
            {"connect_timeouts", counters_.connect_timeouts},
            {"bad_status", counters_.bad_status},
            {"protocol_errors", counters_.protocol_errors},
            {"closed_by_server", counters_.closed_by_server},
            {"slow_closed_by_server", counters_.slow_closed_by_server},
            {"deliveries", counters_.deliveries},
            {"unstamped_events", counters_.unstamped_events},
            {"out_of_order", counters_.out_of_order},
            {"caught_up", counters_.caught_up},
            {"errors", counters_.errors},
            {"latency_us", latency_.serialize()},
            {"catch_up_us", catch_up_.serialize()}};
  }

  void send_line(const std::string& line) {
    const std::string framed = line + "\n";
    std::size_t done = 0;
    // The coordinator reads promptly; a bounded number of short writes.
    for (int attempt = 0; attempt < 1000 && done < framed.size(); ++attempt) {
      const ssize_t n = write(report_fd_, framed.data() + done, framed.size() - done);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        quit_ = true;
        return;
      }
    }
  }

  void read_commands() {
    char chunk[1024];
    const ssize_t n = read(command_fd_, chunk, sizeof chunk);
    if (n <= 0) {
      // The coordinator is gone: never outlive it.
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) quit_ = true;
      return;
    }
    command_buffer_.append(chunk, static_cast<std::size_t>(n));
    if (command_buffer_.size() > kMaxCommandLineBytes) command_buffer_.clear();
    std::size_t eol = 0;
    while ((eol = command_buffer_.find('\n')) != std::string::npos) {
      const std::string line = command_buffer_.substr(0, eol);
      command_buffer_.erase(0, eol + 1);
      run_command(line);
    }
  }

  void run_command(const std::string& line) {
    if (line == "quit") {
      quit_ = true;
    } else if (line == "report") {
      send_line("report " + report().dump());
    } else if (line.rfind("reset", 0) == 0) {
      long long first = 0;
      if (std::sscanf(line.c_str(), "reset %lld", &first) == 1) first_measured_seq_ = first;
      // Only what deliveries measured: connect outcomes stay for the report.
      counters_.deliveries = 0;
      counters_.unstamped_events = 0;
      counters_.out_of_order = 0;
      latency_ = LatencyHistogram{};
    } else if (line == "drop") {
      for (std::size_t i = 0; i < subscribers_.size(); ++i) close_subscriber(i, Phase::kStopped);
      counters_.connected = 0;
    } else if (line.rfind("reconnect ", 0) == 0) {
      long long seq = -1;
      long long from = 0;
      if (std::sscanf(line.c_str(), "reconnect %lld %lld", &seq, &from) != 2) return;
      catch_up_seq_ = seq;
      catch_up_from_ns_ = from;
      catch_up_ = LatencyHistogram{};
      counters_.caught_up = 0;
      begin_wave(/*resume=*/true);
    }
  }

  const PubSubProtocol& protocol_;
  ShardSettings settings_;
  int command_fd_;
  int report_fd_;
  int epoll_fd_ = -1;
  std::vector<Subscriber> subscribers_;
  std::size_t next_to_connect_ = 0;
  int pending_ = 0;
  bool quit_ = false;
  std::string command_buffer_;
  ShardCounters counters_;
  LatencyHistogram latency_;
  LatencyHistogram setup_;
  LatencyHistogram catch_up_;
  int64_t first_measured_seq_ = 0;  // updates before this were warm-up
  int64_t catch_up_seq_ = -1;
  int64_t catch_up_from_ns_ = 0;
  int64_t wave_started_ns_ = 0;
  int64_t last_connected_ns_ = 0;
  int64_t last_expiry_scan_ns_ = 0;
  bool wave_announced_ = false;
  uint64_t wave_ok_ = 0;
  uint64_t wave_failed_ = 0;
};

}  // namespace

bool parse_update_stamp(std::string_view data, int64_t& seq, int64_t& sent_ns) {
  const auto number_after = [&](std::string_view key, int64_t& out) {
    const auto at = data.find(key);
    if (at == std::string_view::npos) return false;
    const char* begin = data.data() + at + key.size();
    const auto [end, error] = std::from_chars(begin, data.data() + data.size(), out);
    return error == std::errc() && end != begin;
  };
  return number_after("seq=", seq) && number_after("ts=", sent_ns);
}

int run_subscriber_shard(const PubSubProtocol& protocol, ShardSettings settings, int command_fd,
                         int report_fd) {
  Shard shard(protocol, std::move(settings), command_fd, report_fd);
  return shard.run();
}

}  // namespace bench
