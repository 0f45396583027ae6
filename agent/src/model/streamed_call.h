// Runs one model call's HTTP exchange on a worker thread and hands its events to the caller's
// thread through a bounded queue, so that cancellation and the stall timeout act at once even
// while the server is silent (a blocked libcurl read cannot be interrupted from outside).
// On cancel or stall the caller returns and the worker is left to notice and end on its own.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>

#include "model/model_provider.h"

namespace agent::model {

struct StreamedCallLimits {
  std::size_t queue = 1024;                 // events buffered for the caller's thread
  std::chrono::milliseconds stall{0};       // nothing heard for this long fails the call; 0 = never
  std::string server = "the model server";  // for the stall message
};

// What the worker and the caller's thread share for one call.
class CallChannel {
 public:
  explicit CallChannel(std::size_t capacity) : capacity_(capacity) {}

  // Worker side. Blocks while the queue is full (the caller is slow); false once abandoned.
  bool push(const ModelEvent& event);
  // The server was heard from. `ahead`: the worker is about to wait this long on purpose (a
  // retry's backoff), which is not a stall.
  void touch(std::chrono::milliseconds ahead = std::chrono::milliseconds(0));
  // True once the caller gave up (cancelled, stalled): the worker should stop.
  bool abandoned() const { return abandoned_.load(); }

 private:
  friend void run_streamed_call(const StreamedCallLimits&, std::function<void(CallChannel&)>,
                                const std::function<void(const ModelEvent&)>&,
                                const std::atomic<bool>&);
  static std::int64_t now_ms();
  void finish(std::exception_ptr failure);
  void abandon();

  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<ModelEvent> events_;
  bool done_ = false;
  std::exception_ptr error_;
  std::atomic<bool> abandoned_{false};
  // Steady-clock ms when the worker last heard from the server. The caller's thread checks it:
  // libcurl's own low-speed check averages over whole seconds and would be late.
  std::atomic<std::int64_t> last_activity_ms_{now_ms()};
};

// Runs work(channel) on a worker thread; work must own (capture by value) all it uses, since it
// may outlive this call. Returns once work returned and all its events went to on_event (on this
// thread); rethrows what work threw. Throws ModelError("cancelled") promptly once `cancelled` is
// set and ModelError("timeout", retryable) after a stall; if on_event throws, that propagates.
void run_streamed_call(const StreamedCallLimits& limits, std::function<void(CallChannel&)> work,
                       const std::function<void(const ModelEvent&)>& on_event,
                       const std::atomic<bool>& cancelled);

}  // namespace agent::model
