#include "worker_threads.h"

#include <thread>

namespace app {

WorkerThreads& WorkerThreads::shared() {
  static WorkerThreads* const instance = new WorkerThreads();
  return *instance;
}

void WorkerThreads::run(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  jobs_.push_back(std::move(job));
  if (idle_ >= jobs_.size()) {
    wake_.notify_one();
    return;
  }
  ++threads_;
  ++started_;
  std::thread([this] { work(); }).detach();
}

void WorkerThreads::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    const bool has_job = wake_.wait_for(lock, idle_timeout_, [this] { return !jobs_.empty(); });
    --idle_;
    if (!has_job) {
      --threads_;
      return;
    }
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (...) {
      // The job reports its own failures; a thread of the pool must survive them.
    }
    job = nullptr;  // what the job holds is released before this thread waits again
    lock.lock();
  }
}

std::size_t WorkerThreads::threads() const {
  std::lock_guard lock(mutex_);
  return threads_;
}

std::size_t WorkerThreads::idle_threads() const {
  std::lock_guard lock(mutex_);
  return idle_;
}

std::size_t WorkerThreads::threads_started() const {
  std::lock_guard lock(mutex_);
  return started_;
}

}  // namespace app
