#include "store/sqlite_schema.h"

#include <iterator>

#include "store/sqlite_statement.h"

namespace agent::store::sqlite {
namespace {

// Each entry moves the schema from version i to i+1. Never edit a released entry; append.
constexpr const char* kMigrations[] = {
    // 1: sessions, messages, turn locks.
    R"sql(
CREATE TABLE sessions (
  user_id TEXT NOT NULL,
  id TEXT NOT NULL,
  title TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  next_seq INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (user_id, id)
) WITHOUT ROWID;
CREATE TABLE messages (
  user_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  content TEXT NOT NULL,
  status TEXT NOT NULL,
  stop_reason TEXT NOT NULL DEFAULT '',
  error_code TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '',
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, session_id, seq)
) WITHOUT ROWID;
CREATE TABLE turn_locks (
  user_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  lease_until INTEGER NOT NULL,
  PRIMARY KEY (user_id, session_id)
) WITHOUT ROWID;
)sql",
    // 2: the periodic sweep finds expired locks by lease, and a restarted process its own by
    // owner, without reading every lock.
    R"sql(
CREATE INDEX turn_locks_by_lease ON turn_locks (lease_until);
CREATE INDEX turn_locks_by_owner ON turn_locks (owner);
)sql",
};

int user_version(sqlite3* db) {
  Statement version(db, "PRAGMA user_version");
  version.step();
  return static_cast<int>(version.integer(0));
}

void refuse_newer(int found, const std::string& path) {
  if (found > schema_target_version())
    throw StoreError("AGENT_SQLITE_PATH: " + path + " has schema version " + std::to_string(found) +
                     ", newer than this agent understands (" +
                     std::to_string(schema_target_version()) +
                     "); run a newer agent or point AGENT_SQLITE_PATH at another file");
}

}  // namespace

int schema_target_version() { return static_cast<int>(std::size(kMigrations)); }

void prepare_database(sqlite3* db, const std::string& path) {
  // Before anything writes to the file: a newer agent's database is left as it is.
  refuse_newer(user_version(db), path);
  {
    Statement wal(db, "PRAGMA journal_mode=WAL");
    const std::string mode = wal.step() ? wal.text(0) : "";
    if (mode != "wal")
      throw StoreError("AGENT_SQLITE_PATH: cannot enable WAL for " + path +
                       " (journal mode stays '" + mode +
                       "'); use a file on a local filesystem that SQLite can write beside");
  }
  exec(db, "PRAGMA synchronous=NORMAL");
  exec(db, "PRAGMA foreign_keys=ON");

  Transaction tx(db);
  const int current = user_version(db);  // again, inside the lock: another process may migrate
  refuse_newer(current, path);
  const int target = schema_target_version();
  for (int v = current; v < target; ++v) exec(db, kMigrations[v]);
  if (current != target) exec(db, "PRAGMA user_version=" + std::to_string(target));
  tx.commit();
}

}  // namespace agent::store::sqlite
