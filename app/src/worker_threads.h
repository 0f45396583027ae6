// Threads that run blocking jobs (the upstream exchanges of UpstreamRelay) and are reused. A job
// never waits for a free thread: a relay can stream for as long as its response lasts, so a job
// that finds no idle thread gets a new one. A thread with nothing to do for idle_timeout ends.
// Creating a thread per proxied request cost the app more than the proxying itself (stacks mapped
// and unmapped, TLB shootdowns on every exit); see the request-path benchmark in the README.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace app {

class WorkerThreads {
 public:
  explicit WorkerThreads(std::chrono::milliseconds idle_timeout = std::chrono::seconds(60))
      : idle_timeout_(idle_timeout) {}
  WorkerThreads(const WorkerThreads&) = delete;
  WorkerThreads& operator=(const WorkerThreads&) = delete;

  // The process's shared instance. It is never destroyed: its threads are detached and may still
  // be finishing a job while the process exits.
  static WorkerThreads& shared();

  // Runs job on an idle thread, or on a new one. Exceptions from the job are swallowed: a job
  // reports its own outcome.
  void run(std::function<void()> job);

  std::size_t threads() const;          // alive now
  std::size_t idle_threads() const;     // alive and waiting for a job
  std::size_t threads_started() const;  // ever

 private:
  void work();

  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::size_t idle_ = 0;
  std::size_t threads_ = 0;
  std::size_t started_ = 0;
};

}  // namespace app
