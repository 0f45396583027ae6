#include "token_stream_subscriber.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "loopback_socket.h"
#include "token_stamps.h"

namespace bench {

TokenStreamSubscriber::TokenStreamSubscriber(uint32_t destination, int port,
                                             const std::string& subscribe_request, int timeout_ms) {
  fd_ = start_connect(loopback_address(1), destination, port);
  if (fd_ < 0) throw std::runtime_error(std::string("subscribe: connect: ") + std::strerror(-fd_));
  const int64_t deadline = monotonic_ns() + static_cast<int64_t>(timeout_ms) * 1'000'000;
  pollfd p{fd_, POLLOUT, 0};
  if (poll(&p, 1, timeout_ms) != 1 || connect_result(fd_) != 0 ||
      send(fd_, subscribe_request.data(), subscribe_request.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(subscribe_request.size())) {
    close(fd_);
    throw std::runtime_error("subscribe: cannot connect to the hub or send the request");
  }
  while (!http_.headers_done() && report_.error.empty() && monotonic_ns() < deadline) read_some(50);
  if (!http_.headers_done() || http_.status_code() != 200) {
    const std::string why = !report_.error.empty() ? report_.error
                            : http_.headers_done()
                                ? "the hub answered " + std::to_string(http_.status_code())
                                : "no response head in time";
    close(fd_);
    throw std::runtime_error("subscribe: " + why);
  }
  reader_ = std::thread([this] { read_loop(); });
}

TokenStreamSubscriber::~TokenStreamSubscriber() {
  stop_ = true;
  if (reader_.joinable()) reader_.join();
  if (fd_ >= 0) close(fd_);
}

void TokenStreamSubscriber::read_loop() {
  while (!stop_ && read_some(50)) {
  }
}

bool TokenStreamSubscriber::read_some(int poll_ms) {
  pollfd p{fd_, POLLIN, 0};
  const int ready = poll(&p, 1, poll_ms);
  if (ready == 0 || (ready < 0 && errno == EINTR)) return true;
  char buffer[64 * 1024];
  const ssize_t n = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
  // The moment the bytes are ours: every update in them arrived now.
  const int64_t received_ns = monotonic_ns();
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n < 0) {
    fail(std::string("recv: ") + std::strerror(errno));
    return false;
  }
  if (n == 0) {
    fail("the hub closed the stream");
    return false;
  }
  std::size_t consumed = 0;
  bool events_ok = true;
  const auto status = http_.feed(
      std::string_view(buffer, static_cast<std::size_t>(n)),
      [&](std::string_view body) {
        events_ok = events_ok && events_.feed(body, [&](const SseEvent& event) {
          on_update(event.data, received_ns);
        });
      },
      consumed);
  if (status == HttpResponseParser::Status::kError) {
    fail("bad HTTP response: " + http_.error());
    return false;
  }
  if (status == HttpResponseParser::Status::kComplete) {
    fail("the hub ended the stream");
    return false;
  }
  if (!events_ok) {
    fail("an SSE event grew past the parser's limit");
    return false;
  }
  return true;
}

void TokenStreamSubscriber::on_update(std::string_view data, int64_t received_ns) {
  const nlohmann::json update = nlohmann::json::parse(data, nullptr, false);
  std::lock_guard lock(mutex_);
  if (!update.is_object() || !update.contains("type") || !update["type"].is_string()) {
    ++report_.unreadable_updates;
    return;
  }
  const std::string type = update["type"].get<std::string>();
  if (type == "text.delta" && update.contains("text") && update["text"].is_string()) {
    if (!measuring_) return;
    ++report_.text_updates;
    const auto stamps = find_token_stamps(update["text"].get_ref<const std::string&>());
    for (const int64_t stamp : stamps)
      report_.token_latency_us.record((received_ns - stamp) / 1000);
    report_.tokens += stamps.size();
    // Stamps only grow within a turn, so the last one is the newest.
    if (!stamps.empty())
      report_.newest_token_latency_us.record((received_ns - stamps.back()) / 1000);
    return;
  }
  if (measuring_) ++report_.other_updates;
  if ((type == "turn.done" || type == "turn.error") && update.contains("turn_id") &&
      update["turn_id"].is_string()) {
    ended_turns_[update["turn_id"].get<std::string>()] = type;
    changed_.notify_all();
  }
}

void TokenStreamSubscriber::fail(std::string why) {
  std::lock_guard lock(mutex_);
  if (report_.error.empty()) report_.error = std::move(why);
  changed_.notify_all();
}

std::string TokenStreamSubscriber::wait_for_turn_end(const std::string& turn_id, int timeout_ms) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [&] { return ended_turns_.count(turn_id) > 0 || !report_.error.empty(); });
  const auto it = ended_turns_.find(turn_id);
  return it == ended_turns_.end() ? std::string() : it->second;
}

TokenStreamReport TokenStreamSubscriber::finish() {
  stop_ = true;
  if (reader_.joinable()) reader_.join();
  std::lock_guard lock(mutex_);
  return report_;
}

}  // namespace bench
