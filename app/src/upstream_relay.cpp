#include "upstream_relay.h"

#include "worker_threads.h"

namespace app {

std::shared_ptr<UpstreamRelay> UpstreamRelay::start(std::shared_ptr<shared::http::HttpClient> client,
                                                    shared::http::ClientRequest request, std::size_t buffer_bound) {
  std::shared_ptr<UpstreamRelay> relay(new UpstreamRelay(buffer_bound));
  // The job owns what it uses (the relay and the client) through shared pointers, and it ends at
  // the latest at the request's timeout or stall timeout.
  WorkerThreads::shared().run([relay, client = std::move(client), request = std::move(request)]() mutable {
    relay->run(*client, std::move(request));
  });
  return relay;
}

UpstreamRelay::~UpstreamRelay() = default;

void UpstreamRelay::run(shared::http::HttpClient& client, shared::http::ClientRequest request) {
  request.on_headers = [this](long status, const shared::http::HeaderList& headers) {
    std::lock_guard lock(mutex_);
    if (!head_) head_ = Head{status, headers};
    cv_.notify_all();
  };
  request.on_body = [this](std::string_view data) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return cancelled_ || buffer_.size() < bound_; });
    if (cancelled_) return false;
    buffer_.append(data);
    cv_.notify_all();
    return true;
  };
  Failure failure = Failure::kNone;
  std::string message;
  std::optional<Head> final_head;
  try {
    auto response = client.send(request);
    final_head = Head{response.status, response.headers};
  } catch (const shared::http::TransportError& e) {
    message = e.what();
    switch (e.kind()) {
      case shared::http::TransportError::Kind::kConnect: failure = Failure::kConnect; break;
      case shared::http::TransportError::Kind::kTimeout: failure = Failure::kTimeout; break;
      default: failure = Failure::kOther; break;
    }
  } catch (const std::exception& e) {
    message = e.what();
    failure = Failure::kOther;
  }
  std::lock_guard lock(mutex_);
  if (!head_ && final_head) head_ = final_head;
  failure_ = failure;
  failure_message_ = message;
  finished_ = true;
  cv_.notify_all();
}

std::optional<UpstreamRelay::Head> UpstreamRelay::wait_head(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [this] { return head_.has_value() || finished_; });
  // A failure after the head (a stream cut mid-way) still has a head to report.
  return head_;
}

UpstreamRelay::Piece UpstreamRelay::take(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [this] { return !buffer_.empty() || finished_ || cancelled_; });
  Piece piece;
  piece.bytes.swap(buffer_);
  piece.finished = (finished_ || cancelled_) && buffer_.empty();
  cv_.notify_all();  // room in the buffer again
  return piece;
}

std::optional<std::string> UpstreamRelay::wait_whole(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const bool ended = cv_.wait_for(lock, timeout, [this] { return finished_ || buffer_.size() >= bound_; });
  if (!ended || !finished_ || failure_ != Failure::kNone) return std::nullopt;
  return buffer_;
}

void UpstreamRelay::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  cv_.notify_all();
}

UpstreamRelay::Failure UpstreamRelay::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

std::string UpstreamRelay::failure_message() const {
  std::lock_guard lock(mutex_);
  return failure_message_;
}

}  // namespace app
