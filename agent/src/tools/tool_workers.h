// The threads that run tools: a fixed number (AGENT_TOOL_WORKERS), so that a tool which never
// returns holds one of them for good instead of leaking a new thread per call. Jobs wait for a
// free worker; a job whose caller gave up waiting (its abandoned flag is set) is dropped unrun,
// so the queue holds at most one job per waiting caller, i.e. per running turn. The threads are
// detached and share the pool's state, so that a hung tool cannot block the agent's exit.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

namespace agent::tools {

class ToolWorkers {
 public:
  explicit ToolWorkers(std::size_t threads);
  // Lets idle workers exit; does not wait for tools still running.
  ~ToolWorkers();
  ToolWorkers(const ToolWorkers&) = delete;
  ToolWorkers& operator=(const ToolWorkers&) = delete;

  void submit(std::function<void()> job, std::shared_ptr<const std::atomic<bool>> abandoned);
  // Workers running a job now (tests).
  std::size_t running() const;

 private:
  struct State;
  static void work(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

}  // namespace agent::tools
