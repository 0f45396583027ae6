#include "engine/tool_approvals.h"

namespace agent::engine {
namespace {

// How soon a waiting turn notices that it was stopped (cancel, deadline, shutdown).
constexpr auto kStopPoll = std::chrono::milliseconds(20);

}  // namespace

std::shared_ptr<ToolApprovals::Pending> ToolApprovals::open(const std::string& user_id,
                                                            const std::string& session_id,
                                                            const std::string& call_id) {
  auto pending = std::make_shared<Pending>();
  pending->key = key(user_id, session_id, call_id);
  std::lock_guard lock(mutex_);
  pending_[pending->key] = pending;
  return pending;
}

ToolApprovals::Outcome ToolApprovals::wait(const std::shared_ptr<Pending>& pending,
                                           std::chrono::steady_clock::time_point until,
                                           const std::atomic<bool>& stop) {
  std::unique_lock lock(mutex_);
  Outcome outcome = Outcome::kTimedOut;
  while (true) {
    if (pending->approved) {
      outcome = *pending->approved ? Outcome::kApproved : Outcome::kDenied;
      break;
    }
    if (stop.load()) {
      outcome = Outcome::kStopped;
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) break;
    decided_.wait_until(lock, std::min(until, now + kStopPoll));
  }
  auto it = pending_.find(pending->key);
  if (it != pending_.end() && it->second == pending) pending_.erase(it);
  return outcome;
}

ToolApprovals::Answer ToolApprovals::decide(const std::string& user_id,
                                            const std::string& session_id,
                                            const std::string& call_id, bool approved) {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(key(user_id, session_id, call_id));
  if (it == pending_.end()) return Answer::kNotPending;
  if (it->second->approved) return Answer::kAlreadyDecided;
  it->second->approved = approved;
  decided_.notify_all();
  return Answer::kRecorded;
}

std::size_t ToolApprovals::pending_count() {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

}  // namespace agent::engine
