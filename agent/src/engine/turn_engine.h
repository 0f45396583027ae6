// The turn engine: starts turns on a bounded worker pool, allows one running turn per session
// (in this process and, through the store's turn lock, across processes), cancels them, enforces
// a deadline, asks the user before running tools that need approval, and on shutdown lets
// running turns finish for a grace period before marking the rest interrupted, within a bound,
// so that no turn is ever silently lost. A running turn renews its lock's lease; a lock whose
// lease ran out (its process died) is recovered by a periodic sweep or by the next message to
// its session (TurnRecovery).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "engine/tool_approvals.h"
#include "engine/turn_recovery.h"
#include "engine/turn_updates.h"
#include "engine/worker_pool.h"
#include "model/model_provider.h"
#include "publish/update_publisher.h"
#include "shared/metrics.h"
#include "store/session_store.h"
#include "tools/tool_registry.h"

namespace agent::engine {

// Which tool calls wait for the user's approval, and for how long.
struct ApprovalPolicy {
  std::set<std::string> tools;                 // AGENT_TOOLS_REQUIRE_APPROVAL: names ...
  bool all = false;                            // ... or "*"
  std::chrono::milliseconds timeout{300'000};  // AGENT_TOOL_APPROVAL_TIMEOUT
  bool required(const std::string& tool) const { return all || tools.count(tool) > 0; }
};

struct TurnSettings {
  std::size_t workers = 8;                      // AGENT_TURN_WORKERS: turns running at once
  std::size_t queue = 64;                       // AGENT_TURN_QUEUE: turns waiting for a worker
  int max_tool_calls = 8;                       // AGENT_MAX_TOOL_CALLS: per turn
  std::chrono::milliseconds deadline{300'000};  // AGENT_TURN_DEADLINE
  std::chrono::milliseconds coalesce{50};       // AGENT_PUBLISH_COALESCE: text delta window
  std::chrono::milliseconds persist_interval{1'000};  // AGENT_PERSIST_INTERVAL: save streaming text
  std::chrono::milliseconds shutdown_grace{10'000};   // AGENT_SHUTDOWN_GRACE: let turns finish
  std::chrono::milliseconds lock_lease{30'000};       // AGENT_TURN_LOCK_LEASE
  std::chrono::milliseconds lock_heartbeat{10'000};   // AGENT_TURN_LOCK_HEARTBEAT: lease renewal
  std::chrono::milliseconds recovery_interval{15'000};  // AGENT_TURN_RECOVERY_INTERVAL: sweep
  int history_messages = 200;                           // AGENT_HISTORY_MESSAGES: sent to the model
  int max_tokens = 2048;                                // AGENT_MAX_TOKENS
  std::string system_prompt;                            // AGENT_SYSTEM_PROMPT
  std::string instance_id;                              // AGENT_INSTANCE_ID: owner of turn locks
  ApprovalPolicy approvals;
};

// Why start_turn refused; the API maps each to a status.
class TurnRefused : public std::runtime_error {
 public:
  enum class Reason { kSessionMissing, kTurnRunning, kBusy, kStopping };
  TurnRefused(Reason reason, const std::string& message)
      : std::runtime_error(message), reason_(reason) {}
  Reason reason() const { return reason_; }

 private:
  Reason reason_;
};

// What stops a turn early; the first reason set wins.
enum class StopReason { kNone = 0, kCancelled, kInterrupted, kDeadline };

// One running turn as the engine tracks it.
struct ActiveTurn {
  std::string user_id;
  std::string session_id;
  std::string turn_id;
  std::chrono::steady_clock::time_point deadline;
  std::atomic<bool> stop{false};
  std::atomic<int> stop_reason{0};
  // Set once the store lock is taken (the lease keeper renews only those).
  std::atomic<bool> lock_held{false};
  // Set as the final state is persisted: the turn is over for readers, only its lock is left.
  std::atomic<bool> finishing{false};
  std::unique_ptr<TurnUpdates> updates;

  void request_stop(StopReason reason) {
    int expected = 0;
    stop_reason.compare_exchange_strong(expected, static_cast<int>(reason));
    stop.store(true);
  }
  StopReason reason() const { return static_cast<StopReason>(stop_reason.load()); }
};

struct StartedTurn {
  std::string turn_id;
  std::int64_t user_message_seq = 0;
  std::int64_t assistant_message_seq = 0;
};

// Buckets of agent_turn_duration_seconds: up to the turn deadline, which bounds every turn.
std::vector<double> turn_duration_buckets(std::chrono::milliseconds deadline);

class TurnEngine {
 public:
  TurnEngine(TurnSettings settings, store::SessionStore& store, model::ModelProvider& model,
             tools::ToolRegistry& tools, publish::UpdatePublisher& publisher,
             shared::MetricsRegistry& metrics);
  ~TurnEngine();
  TurnEngine(const TurnEngine&) = delete;
  TurnEngine& operator=(const TurnEngine&) = delete;

  // Checks that a worker can take the turn, then persists the user's message and a running
  // assistant message and queues it; a refused turn stores nothing. Throws TurnRefused, or
  // store::StoreError.
  StartedTurn start_turn(const std::string& user_id, const std::string& session_id,
                         const std::string& text);
  // Stops the session's running turn, keeping what it produced. The turn id, or empty when none
  // was running here.
  std::string cancel(const std::string& user_id, const std::string& session_id);
  // The user's answer for a tool call waiting for approval in this process.
  ToolApprovals::Answer decide_approval(const std::string& user_id, const std::string& session_id,
                                        const std::string& call_id, bool approved);
  bool is_running(const std::string& user_id, const std::string& session_id);
  std::size_t running_count();
  bool accepting();

  // Marks turns left running by dead processes (expired leases and, with include_own, this
  // instance id's) as interrupted and releases their locks. Returns how many. Run at start with
  // include_own, and periodically without.
  int recover_abandoned_turns(bool include_own = true);

  // Refuses new turns from now on (the grace period starts here).
  void begin_shutdown();
  // Waits for running turns until the grace period ends, interrupts the rest and waits until
  // they are persisted or interrupt_deadline passes, then stops the workers. False when turns
  // were still running at interrupt_deadline (then nothing is stopped: their locks' leases run
  // out and another instance marks them; the caller exits without waiting for them).
  bool shutdown(std::chrono::steady_clock::time_point interrupt_deadline =
                    std::chrono::steady_clock::time_point::max());

 private:
  void run(const std::shared_ptr<ActiveTurn>& turn, std::int64_t assistant_seq);
  void tick();
  void keep_leases();
  void finish(const std::shared_ptr<ActiveTurn>& turn);
  bool is_live(const std::string& user_id, const std::string& session_id,
               const std::string& turn_id);
  // The session's last message is an assistant message in its final state.
  bool last_turn_ended(const std::string& user_id, const std::string& session_id);
  std::int64_t lease_from_now() const;
  static std::string key(const std::string& user_id, const std::string& session_id) {
    return user_id + "/" + session_id;
  }

  TurnSettings settings_;
  store::SessionStore& store_;
  model::ModelProvider& model_;
  tools::ToolRegistry& tools_;
  publish::UpdatePublisher& publisher_;
  shared::MetricsRegistry& metrics_;
  ToolApprovals approvals_;
  TurnRecovery recovery_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::shared_ptr<ActiveTurn>> active_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point shutdown_started_{};
  bool threads_stop_ = false;
  std::condition_variable threads_wake_;
  std::thread ticker_;
  std::thread lease_keeper_;
  WorkerPool pool_;
};

}  // namespace agent::engine
