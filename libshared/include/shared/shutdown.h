// SIGTERM/SIGINT handling for a whole process: the signals are blocked in every thread and
// received by one watcher thread, which runs the shutdown callbacks once, in order.
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

  void on_shutdown(std::function<void()> callback);
  // Runs the callbacks as if a signal had come (tests, fatal errors).
  void trigger();

 private:
  void run_callbacks();
  std::mutex mutex_;
  std::vector<std::function<void()>> callbacks_;
  bool fired_ = false;
  std::thread watcher_;
};

}  // namespace shared
