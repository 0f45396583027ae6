// Ending turns whose process died. A running turn renews its store lock's lease (see
// TurnEngine), so a dead process's locks expire within AGENT_TURN_LOCK_LEASE; then a sweep of
// any instance (every AGENT_TURN_RECOVERY_INTERVAL, and at start also for the locks of this
// instance id's previous life) or the next message to the session takes the lock over, marks
// the turn's assistant message interrupted and publishes turn.error, so that neither the store
// nor a watching browser keeps waiting for it.
#pragma once

#include <functional>
#include <string>

#include "publish/update_publisher.h"
#include "store/session_store.h"

namespace agent::engine {

struct TurnSettings;

class TurnRecovery {
 public:
  // is_live(user, session, turn): the turn runs in this process (its lock is not abandoned,
  // only late to be renewed).
  using IsLive = std::function<bool(const std::string&, const std::string&, const std::string&)>;

  TurnRecovery(const TurnSettings& settings, store::SessionStore& store,
               publish::UpdatePublisher& publisher)
      : settings_(settings), store_(store), publisher_(publisher) {}

  // Marks turn_id's assistant message interrupted, if it is still running, and tells watchers.
  // For a lock taken over by a new turn, or claimed by a sweep. True when one was marked.
  bool interrupt(const std::string& user_id, const std::string& session_id,
                 const std::string& turn_id);
  // The same for a running message already read (one a previous turn left unmarked).
  void interrupt_message(const std::string& user_id, const std::string& session_id,
                         store::StoredMessage message);
  // Claims every abandoned lock (expired, or with include_own held under this instance id),
  // interrupts its turn and releases it. Returns how many turns were marked.
  int sweep(bool include_own, const IsLive& is_live);

 private:
  const TurnSettings& settings_;
  store::SessionStore& store_;
  publish::UpdatePublisher& publisher_;
};

}  // namespace agent::engine
