// The embedded store: one SQLite file in WAL mode, schema migrations by PRAGMA user_version
// (store/sqlite_schema).
// One connection guarded by a mutex: the agent's write rate is a few rows per turn, far below
// what one SQLite writer handles, and it keeps every operation simply serialised.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <mutex>
#include <string>

#include "store/session_store.h"

namespace agent::store {

struct SqliteSettings {
  std::string path = "agent.db";                 // AGENT_SQLITE_PATH (a file: WAL needs one)
  std::chrono::milliseconds busy_timeout{5000};  // AGENT_SQLITE_BUSY_TIMEOUT
};

class SqliteSessionStore : public SessionStore {
 public:
  // Opens (creating when missing), enables WAL and migrates the schema; throws StoreError.
  explicit SqliteSessionStore(SqliteSettings settings);
  ~SqliteSessionStore() override;
  SqliteSessionStore(const SqliteSessionStore&) = delete;
  SqliteSessionStore& operator=(const SqliteSessionStore&) = delete;

  Session create_session(const std::string& user_id, const std::string& title) override;
  std::optional<Session> get_session(const std::string& user_id,
                                     const std::string& session_id) override;
  Page<Session> list_sessions(const std::string& user_id, int limit,
                              const std::string& cursor) override;
  std::optional<Session> rename_session(const std::string& user_id, const std::string& session_id,
                                        const std::string& title) override;
  bool delete_session(const std::string& user_id, const std::string& session_id) override;
  Page<StoredMessage> list_messages(const std::string& user_id, const std::string& session_id,
                                    int limit, const std::string& cursor) override;
  std::vector<StoredMessage> recent_messages(const std::string& user_id,
                                             const std::string& session_id, int limit,
                                             std::int64_t before_seq) override;
  std::optional<StoredMessage> append_message(const std::string& user_id,
                                              const std::string& session_id,
                                              StoredMessage message) override;
  bool update_message(const std::string& user_id, const std::string& session_id,
                      const StoredMessage& message) override;
  TurnLockGrant acquire_turn_lock(const std::string& user_id, const std::string& session_id,
                                  const std::string& turn_id, const std::string& owner,
                                  std::int64_t lease_until_ms) override;
  bool renew_turn_lock(const std::string& user_id, const std::string& session_id,
                       const std::string& turn_id, std::int64_t lease_until_ms) override;
  void release_turn_lock(const std::string& user_id, const std::string& session_id,
                         const std::string& turn_id) override;
  std::vector<AbandonedTurn> abandoned_turns(const std::string& owner,
                                             std::int64_t now_ms) override;
  bool claim_turn_lock(const AbandonedTurn& seen, const std::string& claimer,
                       std::int64_t lease_until_ms) override;
  std::string check_ready() override;

  // The schema version after migrations, and the journal mode (tests).
  int schema_version();
  std::string journal_mode();

 private:
  SqliteSettings settings_;
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace agent::store
