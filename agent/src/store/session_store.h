// The storage interface for chat sessions and their messages, scoped by user. Two
// implementations (SQLite, DynamoDB) pass one shared test suite (tests/agent/session_store_test).
// Everything a reader gets back is scoped to the user given: another user's session is
// indistinguishable from a missing one.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace agent::store {

struct Session {
  std::string id;
  std::string user_id;
  std::string title;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// A turn's state as the UI shows it. A user message is always complete; an assistant message
// starts running and ends in one of the other states.
namespace turn_status {
inline constexpr const char* kRunning = "running";
inline constexpr const char* kComplete = "complete";
inline constexpr const char* kCancelled = "cancelled";
inline constexpr const char* kInterrupted = "interrupted";
inline constexpr const char* kError = "error";
}  // namespace turn_status

// One message of a session. content is a JSON array of blocks in the order they happened:
//   {"type":"text","text":"..."}
//   {"type":"tool_call","call_id":"...","name":"...","input":{...},"output":"...","is_error":false,
//    "approval":"pending|approved|denied|timed_out|cancelled"}
// (a tool_call without "output" has not returned yet; "approval" only on calls of tools that
// need the user's approval).
struct StoredMessage {
  std::int64_t seq = 0;  // position in the session, from 1; assigned by append_message
  std::string role;      // "user" | "assistant"
  std::string turn_id;
  nlohmann::json content = nlohmann::json::array();
  std::string status = turn_status::kComplete;
  std::string stop_reason;
  std::string error_code;
  std::string error_message;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<std::string> next_cursor;  // opaque; absent on the last page
};

// A failure of the store itself (unreachable, corrupt, throttled past retries). The API maps it
// to 503.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A cursor that this store did not issue or cannot read. The API maps it to 400.
class BadCursor : public std::runtime_error {
 public:
  BadCursor() : std::runtime_error("cursor is not valid") {}
};

// A turn lock as abandoned_turns saw it: a crashed or stopped process left it behind, or its
// lease ran out. claim_turn_lock takes it only if it is still exactly this.
struct AbandonedTurn {
  std::string user_id;
  std::string session_id;
  std::string turn_id;
  std::string owner;
  std::int64_t lease_until_ms = 0;
};

// What acquire_turn_lock did.
struct TurnLockGrant {
  bool acquired = false;
  // Set when the lock was taken over from a turn whose lease had run out (its process died or
  // stopped renewing): that turn's id, so that the caller marks it interrupted.
  std::string replaced_turn_id;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  virtual Session create_session(const std::string& user_id, const std::string& title) = 0;
  virtual std::optional<Session> get_session(const std::string& user_id,
                                             const std::string& session_id) = 0;
  // Newest first.
  virtual Page<Session> list_sessions(const std::string& user_id, int limit,
                                      const std::string& cursor) = 0;
  virtual std::optional<Session> rename_session(const std::string& user_id,
                                                const std::string& session_id,
                                                const std::string& title) = 0;
  // Removes the session, its messages and its turn lock. False when there was no such session.
  virtual bool delete_session(const std::string& user_id, const std::string& session_id) = 0;

  // In order, oldest first.
  virtual Page<StoredMessage> list_messages(const std::string& user_id,
                                            const std::string& session_id, int limit,
                                            const std::string& cursor) = 0;
  // The last `limit` messages before seq `before_seq` (0: of the whole session), oldest first:
  // what a turn sends the model, read without going through the whole history.
  virtual std::vector<StoredMessage> recent_messages(const std::string& user_id,
                                                     const std::string& session_id, int limit,
                                                     std::int64_t before_seq) = 0;
  // Appends at the end of the session and returns it with its seq; two writers never get the
  // same seq. nullopt when the session does not exist (or was deleted while writing: then
  // nothing of the message is left behind).
  virtual std::optional<StoredMessage> append_message(const std::string& user_id,
                                                      const std::string& session_id,
                                                      StoredMessage message) = 0;
  // Replaces the message at message.seq (content, status, usage). False when it is gone (the
  // session was deleted meanwhile; nothing of the write is left behind).
  virtual bool update_message(const std::string& user_id, const std::string& session_id,
                              const StoredMessage& message) = 0;

  // The per-session turn lock, with a lease that the running turn renews. A lock whose lease
  // ran out is taken over (and the grant names the turn it replaced). owner names the process.
  // Not acquired when the session does not exist or a live turn holds it.
  virtual TurnLockGrant acquire_turn_lock(const std::string& user_id, const std::string& session_id,
                                          const std::string& turn_id, const std::string& owner,
                                          std::int64_t lease_until_ms) = 0;
  // Extends the lease of the lock that turn_id holds. False when it no longer holds it (taken
  // over after its lease ran out, released, or the session was deleted).
  virtual bool renew_turn_lock(const std::string& user_id, const std::string& session_id,
                               const std::string& turn_id, std::int64_t lease_until_ms) = 0;
  virtual void release_turn_lock(const std::string& user_id, const std::string& session_id,
                                 const std::string& turn_id) = 0;
  // Locks whose lease ran out before now_ms and, when owner is not empty, locks held under that
  // owner name (a restarted process's previous life). The locks are left in place: claim one,
  // mark its turn, then release it. Costs the locks found, not the size of the store.
  virtual std::vector<AbandonedTurn> abandoned_turns(const std::string& owner,
                                                     std::int64_t now_ms) = 0;
  // Takes an abandoned lock for its recovery, only if it is unchanged since abandoned_turns saw
  // it (same turn, owner and lease: a renewed or re-acquired lock is left alone). The lock keeps
  // its turn id and gets claimer and the new lease. True when taken.
  virtual bool claim_turn_lock(const AbandonedTurn& seen, const std::string& claimer,
                               std::int64_t lease_until_ms) = 0;

  // Empty when the store answers; otherwise why not (for /readyz).
  virtual std::string check_ready() = 0;
};

}  // namespace agent::store
