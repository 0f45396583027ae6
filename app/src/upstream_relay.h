// One upstream HTTP exchange whose response is handed to a client as it arrives. The exchange
// runs on a worker thread (the HTTP client is blocking; see worker_threads.h) and fills a bounded buffer; the client's
// response drains it. When the buffer is full the upstream read waits, so a slow client slows its
// upstream instead of growing memory; when the client goes away the exchange is aborted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "shared/http_client.h"

namespace app {

class UpstreamRelay : public std::enable_shared_from_this<UpstreamRelay> {
 public:
  enum class Failure { kNone, kConnect, kTimeout, kOther };
  struct Head {
    long status = 0;
    shared::http::HeaderList headers;  // names lower-cased
  };
  struct Piece {
    std::string bytes;
    bool finished = false;  // the upstream body ended (or failed) and everything was taken
  };

  // Starts the exchange. The client must outlive nothing: the relay keeps it alive.
  static std::shared_ptr<UpstreamRelay> start(std::shared_ptr<shared::http::HttpClient> client,
                                              shared::http::ClientRequest request, std::size_t buffer_bound);
  ~UpstreamRelay();

  // The status and headers, once they are in; nullopt when the exchange failed first (see
  // failure()) or the time ran out (failure() is kNone then).
  std::optional<Head> wait_head(std::chrono::milliseconds timeout);
  // Body bytes that arrived, waiting up to timeout for some.
  Piece take(std::chrono::milliseconds timeout);
  // The whole body when the exchange ends within timeout and it fits the bound; nullopt otherwise.
  std::optional<std::string> wait_whole(std::chrono::milliseconds timeout);
  // Aborts the exchange at its next byte (or its stall timeout).
  void cancel();

  Failure failure() const;
  std::string failure_message() const;

 private:
  explicit UpstreamRelay(std::size_t buffer_bound) : bound_(buffer_bound) {}
  void run(shared::http::HttpClient& client, shared::http::ClientRequest request);

  const std::size_t bound_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<Head> head_;
  std::string buffer_;
  bool finished_ = false;
  bool cancelled_ = false;
  Failure failure_ = Failure::kNone;
  std::string failure_message_;
};

}  // namespace app
