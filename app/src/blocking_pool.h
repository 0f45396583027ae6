// A few threads for the work that blocks and so must never run on an event loop: today only the
// ALB public-key fetch (libcurl over https, with its own timeout). Bounded twice: a fixed number
// of threads and a bounded queue; a job that finds the queue full is refused at once rather than
// waiting. Jobs report back to an event loop through EventLoop's mailbox, never by touching
// connection state themselves.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace app {

class BlockingPool {
 public:
  BlockingPool(std::size_t threads, std::size_t max_queued);
  // Drops queued jobs, waits for the running ones (each bounded by its own timeout) and joins.
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // False (and the job is not run) when max_queued jobs are already waiting.
  bool try_run(std::function<void()> job);

 private:
  void work();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace app
