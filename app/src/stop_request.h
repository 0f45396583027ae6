// The request to stop, made by a signal (or a test) from any thread at any time, including before
// the server runs: main registers it with the signal watcher first thing, so a SIGTERM that comes
// during start-up is not lost, and the server waits on it.
#pragma once

#include <condition_variable>
#include <mutex>

namespace app {

class StopRequest {
 public:
  void request() {
    {
      std::lock_guard lock(mutex_);
      requested_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return requested_; });
  }
  bool requested() const {
    std::lock_guard lock(mutex_);
    return requested_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool requested_ = false;
};

}  // namespace app
