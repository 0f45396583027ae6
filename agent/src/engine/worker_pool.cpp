#include "engine/worker_pool.h"

namespace agent::engine {

WorkerPool::Slot& WorkerPool::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = other.pool_;
    other.pool_ = nullptr;
  }
  return *this;
}

void WorkerPool::Slot::release() {
  if (!pool_) return;
  std::lock_guard lock(pool_->mutex_);
  --pool_->reserved_;
  pool_ = nullptr;
}

bool WorkerPool::Slot::submit(std::function<void()> job) {
  if (!pool_) return false;
  WorkerPool* pool = pool_;
  pool_ = nullptr;
  std::lock_guard lock(pool->mutex_);
  --pool->reserved_;
  if (pool->stopping_) return false;
  pool->jobs_.push_back(std::move(job));
  pool->wake_.notify_one();
  return true;
}

WorkerPool::WorkerPool(std::size_t workers, std::size_t queue_limit)
    : workers_(workers), queue_limit_(queue_limit) {
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() { stop(); }

WorkerPool::Slot WorkerPool::reserve() {
  std::lock_guard lock(mutex_);
  // Jobs queued or promised, against the workers that will be free for them plus the queue.
  const std::size_t idle = workers_ - busy_;
  if (stopping_ || jobs_.size() + reserved_ >= idle + queue_limit_) return Slot();
  ++reserved_;
  return Slot(this);
}

bool WorkerPool::try_submit(std::function<void()> job) {
  auto slot = reserve();
  return slot && slot.submit(std::move(job));
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
    ++busy_;
    lock.unlock();
    job();  // jobs catch their own exceptions: a turn reports its failure, it does not throw
    lock.lock();
    --busy_;
  }
}

}  // namespace agent::engine
