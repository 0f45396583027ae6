// A fixed number of threads running queued jobs, with bounded admission: a job is admitted while
// there is an idle worker for it or room among queue_limit waiting jobs; past that the pool
// refuses (the API answers 503) instead of queueing without limit. Admission is a reservation
// taken before the caller does any work for the job (persisting the turn), so that a refused
// job leaves nothing behind and an admitted one cannot then find the pool full.
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
  // A place for one job, held until submitted or dropped (then given back).
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : pool_(other.pool_) { other.pool_ = nullptr; }
    Slot& operator=(Slot&& other) noexcept;
    ~Slot() { release(); }
    explicit operator bool() const { return pool_ != nullptr; }
    // Queues the job in this slot; the slot is used up. False when the pool stopped meanwhile.
    bool submit(std::function<void()> job);

   private:
    friend class WorkerPool;
    explicit Slot(WorkerPool* pool) : pool_(pool) {}
    void release();
    WorkerPool* pool_ = nullptr;
  };

  // workers threads; beyond the idle ones, at most queue_limit jobs wait.
  WorkerPool(std::size_t workers, std::size_t queue_limit);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // A slot when a job would be admitted now; an empty one when every worker is busy and the
  // queue is full, or the pool is stopping.
  Slot reserve();
  // reserve() and submit in one step.
  bool try_submit(std::function<void()> job);
  // Runs what is queued, then joins the threads. Idempotent.
  void stop();

 private:
  void work();

  std::size_t workers_;
  std::size_t queue_limit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::size_t busy_ = 0;      // workers running a job
  std::size_t reserved_ = 0;  // slots handed out and not yet submitted or released
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace agent::engine
