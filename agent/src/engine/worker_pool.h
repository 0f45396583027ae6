// A fixed number of threads running queued jobs, with a bounded queue: a full pool refuses new
// work (the API answers 503) instead of queueing without limit.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace agent::engine {

class WorkerPool {
 public:
  // workers threads; at most queue_limit jobs waiting beyond those running.
  WorkerPool(std::size_t workers, std::size_t queue_limit);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full or the pool is stopping.
  bool try_submit(std::function<void()> job);
  // Runs what is queued, then joins the threads. Idempotent.
  void stop();

 private:
  void work();

  std::size_t queue_limit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace agent::engine
