// Approvals of tool calls, between the turn that waits for one (TurnRunner) and the request that
// gives it (POST /v1/sessions/{id}/approvals/{call_id}). They meet in this process: the app's
// sticky sessions send a user's requests to the task whose agent runs their turn, as for cancel.
// A call is opened before its tool.approval update is published, so that an answer given at
// once is not lost, and closed when the wait ends, however it ends.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace agent::engine {

class ToolApprovals {
 public:
  enum class Outcome { kApproved, kDenied, kTimedOut, kStopped };
  enum class Answer {
    kRecorded,        // the waiting turn has it
    kAlreadyDecided,  // the call was answered before
    kNotPending,      // no call of that id waits here
  };
  // One call waiting for its answer.
  class Pending;

  std::shared_ptr<Pending> open(const std::string& user_id, const std::string& session_id,
                                const std::string& call_id);
  // Waits for the answer until `until` or until `stop` is set, then closes the call.
  Outcome wait(const std::shared_ptr<Pending>& pending, std::chrono::steady_clock::time_point until,
               const std::atomic<bool>& stop);
  Answer decide(const std::string& user_id, const std::string& session_id,
                const std::string& call_id, bool approved);
  std::size_t pending_count();

 private:
  static std::string key(const std::string& user_id, const std::string& session_id,
                         const std::string& call_id) {
    return user_id + "/" + session_id + "/" + call_id;
  }

  std::mutex mutex_;
  std::condition_variable decided_;
  std::map<std::string, std::shared_ptr<Pending>> pending_;
};

class ToolApprovals::Pending {
 private:
  friend class ToolApprovals;
  std::string key;
  std::optional<bool> approved;
};

}  // namespace agent::engine
