#include "engine/worker_pool.h"

namespace agent::engine {

WorkerPool::WorkerPool(std::size_t workers, std::size_t queue_limit) : queue_limit_(queue_limit) {
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::try_submit(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  if (stopping_ || jobs_.size() >= queue_limit_) return false;
  jobs_.push_back(std::move(job));
  wake_.notify_one();
  return true;
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void WorkerPool::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();  // jobs catch their own exceptions: a turn reports its failure, it does not throw
    lock.lock();
  }
}

}  // namespace agent::engine
