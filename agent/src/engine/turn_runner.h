// One turn, start to end, on a worker thread: load the recent history, call the model with
// streaming, run the tools it asks for (after the user's approval for those that need it) and
// call it again, until it stops, the tool-call limit is hit, or the turn is stopped (cancel,
// deadline, shutdown). Every step is persisted to the assistant message and published; the turn
// always ends with turn.done or turn.error.
#pragma once

#include <chrono>

#include "engine/tool_approvals.h"
#include "engine/turn_engine.h"
#include "engine/turn_recovery.h"

namespace agent::engine {

class TurnRunner {
 public:
  TurnRunner(const TurnSettings& settings, store::SessionStore& store, model::ModelProvider& model,
             tools::ToolRegistry& tools, shared::MetricsRegistry& metrics, TurnRecovery& recovery,
             ToolApprovals& approvals, ActiveTurn& turn, std::int64_t assistant_seq);
  // Never throws. Returns the final status of the assistant message.
  std::string run();

 private:
  struct CallOutcome {
    std::string stop_reason;
    std::vector<model::ContentBlock> blocks;  // what the assistant said in this call, in order
  };
  std::vector<store::StoredMessage> load_history();
  CallOutcome call_model(const std::vector<model::Message>& messages);
  model::ContentBlock run_tool(const model::ContentBlock& use);
  // Asks the user and waits. An error result when the call must not run; nullopt to run it.
  std::optional<tools::ToolResult> await_approval(const model::ContentBlock& use,
                                                  std::size_t index);
  void append_text(const std::string& text);
  void persist();
  void check_stop() const;

  const TurnSettings& settings_;
  store::SessionStore& store_;
  model::ModelProvider& model_;
  tools::ToolRegistry& tools_;
  shared::MetricsRegistry& metrics_;
  TurnRecovery& recovery_;
  ToolApprovals& approvals_;
  ActiveTurn& turn_;
  store::StoredMessage assistant_;
  std::chrono::steady_clock::time_point last_persist_{};
};

}  // namespace agent::engine
