#include "engine/turn_recovery.h"

#include "engine/turn_engine.h"
#include "identifiers.h"
#include "shared/logging.h"

namespace agent::engine {
namespace {

constexpr const char* kInterrupted = "the agent stopped before the turn finished";
// The dead process's last seq is unknown: this one is past any a turn reaches, so the turn's
// seq still increases for a watcher.
constexpr std::int64_t kRecoverySeq = 1'000'000;
// The turn a lock names is the session's last: its assistant message is among the last two
// (user, assistant) as no other turn could write while the lock was held.
constexpr int kMessagesOfATurn = 2;

}  // namespace

void TurnRecovery::interrupt_message(const std::string& user_id, const std::string& session_id,
                                     store::StoredMessage message) {
  message.status = store::turn_status::kInterrupted;
  message.error_code = "interrupted";
  message.error_message = kInterrupted;
  if (!store_.update_message(user_id, session_id, message)) return;  // the session is gone
  publisher_.publish(publish::session_topic(user_id, session_id), {{"type", "turn.error"},
                                                                   {"turn_id", message.turn_id},
                                                                   {"seq", kRecoverySeq},
                                                                   {"code", "interrupted"},
                                                                   {"message", kInterrupted}});
  shared::log::warn("marked an abandoned turn interrupted",
                    {{"turn_id", message.turn_id}, {"session_id", session_id}});
}

bool TurnRecovery::interrupt(const std::string& user_id, const std::string& session_id,
                             const std::string& turn_id) {
  for (auto& m : store_.recent_messages(user_id, session_id, kMessagesOfATurn, 0)) {
    if (m.turn_id != turn_id || m.role != "assistant" || m.status != store::turn_status::kRunning)
      continue;
    interrupt_message(user_id, session_id, std::move(m));
    return true;
  }
  return false;
}

int TurnRecovery::sweep(bool include_own, const IsLive& is_live) {
  int marked = 0;
  const auto now = now_ms();
  for (const auto& lock :
       store_.abandoned_turns(include_own ? settings_.instance_id : std::string(), now)) {
    if (is_live(lock.user_id, lock.session_id, lock.turn_id)) continue;
    const auto lease = now_ms() + settings_.lock_lease.count();
    // Only one instance recovers a turn; a lock renewed or taken meanwhile is not abandoned.
    if (!store_.claim_turn_lock(lock, settings_.instance_id, lease)) continue;
    try {
      if (interrupt(lock.user_id, lock.session_id, lock.turn_id)) ++marked;
    } catch (const std::exception& e) {
      // Keep the claim: its lease runs out and a later sweep tries again.
      shared::log::error("cannot mark an abandoned turn",
                         {{"turn_id", lock.turn_id}, {"error", e.what()}});
      continue;
    }
    store_.release_turn_lock(lock.user_id, lock.session_id, lock.turn_id);
  }
  return marked;
}

}  // namespace agent::engine
