// SIGTERM/SIGINT handling for a whole process: the signals are blocked in every thread and
// received by one watcher thread, which runs the shutdown callbacks once, in order. A callback
// registered after the signal came runs at once, so a signal during start-up is never lost.
#pragma once

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace shared {

class ShutdownSignal {
 public:
  // Create in main before starting any other thread, so that all threads inherit the mask.
  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Runs the callback when the signal comes, or at once (on the calling thread) when it came
  // already: mains register only once their parts are built, which may be after the signal.
  void on_shutdown(std::function<void()> callback);
  // Runs the callbacks as if a signal had come (tests, fatal errors).
  void trigger();
  // Whether a signal (or trigger()) has come.
  bool fired() const;

 private:
  void run_callbacks();
  mutable std::mutex mutex_;
  std::vector<std::function<void()>> callbacks_;
  bool fired_ = false;
  std::thread watcher_;
};

// Ends the process now with `status`, without running destructors or atexit handlers, after
// flushing the log. For a main whose drain time ran out: request threads that are still running
// use the service, the metrics and the handlers' own objects, so destroying them would be a
// use-after-free; abandoning the process is the only safe way to stop on time.
[[noreturn]] void abandon_in_flight_work_and_exit(int status);

}  // namespace shared
