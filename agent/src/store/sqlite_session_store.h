// The embedded store: one SQLite file in WAL mode, schema migrations by PRAGMA user_version.
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
  std::string path = "agent.db";                 // AGENT_SQLITE_PATH (":memory:" for tests)
  std::chrono::milliseconds busy_timeout{5000};  // AGENT_SQLITE_BUSY_TIMEOUT
};

class SqliteSessionStore : public SessionStore {
 public:
  // Opens (creating when missing) and migrates the schema; throws StoreError.
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
  std::optional<StoredMessage> append_message(const std::string& user_id,
                                              const std::string& session_id,
                                              StoredMessage message) override;
  bool update_message(const std::string& user_id, const std::string& session_id,
                      const StoredMessage& message) override;
  bool acquire_turn_lock(const std::string& user_id, const std::string& session_id,
                         const std::string& turn_id, const std::string& owner,
                         std::int64_t lease_until_ms) override;
  void release_turn_lock(const std::string& user_id, const std::string& session_id,
                         const std::string& turn_id) override;
  std::vector<AbandonedTurn> abandoned_turns(const std::string& owner,
                                             std::int64_t now_ms) override;
  std::string check_ready() override;

  // The schema version after migrations (tests).
  int schema_version();

 private:
  void migrate();
  void exec(const char* sql);

  SqliteSettings settings_;
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace agent::store
