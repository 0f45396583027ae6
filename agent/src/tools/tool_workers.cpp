#include "tools/tool_workers.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace agent::tools {

struct ToolWorkers::State {
  struct Job {
    std::function<void()> run;
    std::shared_ptr<const std::atomic<bool>> abandoned;
  };
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Job> jobs;
  std::size_t running = 0;
  bool stopping = false;

  void drop_abandoned() {
    std::erase_if(jobs, [](const Job& job) { return job.abandoned && job.abandoned->load(); });
  }
};

void ToolWorkers::work(const std::shared_ptr<State>& state) {
  std::unique_lock lock(state->mutex);
  while (true) {
    state->wake.wait(lock, [&] { return state->stopping || !state->jobs.empty(); });
    if (state->stopping) return;
    auto job = std::move(state->jobs.front());
    state->jobs.pop_front();
    if (job.abandoned && job.abandoned->load()) continue;
    ++state->running;
    lock.unlock();
    job.run();  // the registry's job catches everything the tool throws
    lock.lock();
    --state->running;
  }
}

ToolWorkers::ToolWorkers(std::size_t threads) : state_(std::make_shared<State>()) {
  for (std::size_t i = 0; i < threads; ++i) std::thread([state = state_] { work(state); }).detach();
}

ToolWorkers::~ToolWorkers() {
  std::lock_guard lock(state_->mutex);
  state_->stopping = true;
  state_->jobs.clear();
  state_->wake.notify_all();
}

void ToolWorkers::submit(std::function<void()> job,
                         std::shared_ptr<const std::atomic<bool>> abandoned) {
  std::lock_guard lock(state_->mutex);
  state_->drop_abandoned();
  state_->jobs.push_back({std::move(job), std::move(abandoned)});
  state_->wake.notify_one();
}

std::size_t ToolWorkers::running() const {
  std::lock_guard lock(state_->mutex);
  return state_->running;
}

}  // namespace agent::tools
