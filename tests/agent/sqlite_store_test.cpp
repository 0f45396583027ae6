// What the SQLite store promises beyond the shared contract: WAL is really on, an older
// schema is migrated with its data kept, and a newer one is refused without touching the file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/sqlite_schema.h"
#include "store/sqlite_session_store.h"
#include "store_under_test.h"

namespace agent::store {
namespace {

std::string fresh_path() {
  return (testing::scratch_folder() / ("sqlite-" + random_hex(6) + ".db")).string();
}

// Runs SQL on a file with a connection of its own (what an older agent, or a newer one, left).
void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string why = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << why;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Version 1 of the schema, as the first released agent created it.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE sessions (user_id TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, next_seq INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (user_id, id)) WITHOUT ROWID;
CREATE TABLE messages (user_id TEXT NOT NULL, session_id TEXT NOT NULL, seq INTEGER NOT NULL,
  role TEXT NOT NULL, turn_id TEXT NOT NULL, content TEXT NOT NULL, status TEXT NOT NULL,
  stop_reason TEXT NOT NULL DEFAULT '', error_code TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '', input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, PRIMARY KEY (user_id, session_id, seq)) WITHOUT ROWID;
CREATE TABLE turn_locks (user_id TEXT NOT NULL, session_id TEXT NOT NULL, turn_id TEXT NOT NULL,
  owner TEXT NOT NULL, lease_until INTEGER NOT NULL, PRIMARY KEY (user_id, session_id))
  WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

TEST(SqliteSessionStore, RunsInWalMode) {
  SqliteSettings settings;
  settings.path = fresh_path();
  SqliteSessionStore store(settings);
  EXPECT_EQ(store.journal_mode(), "wal");
  EXPECT_TRUE(std::filesystem::exists(settings.path + "-wal"));
}

TEST(SqliteSessionStore, RefusesADatabaseWhereWalCannotBeEnabled) {
  SqliteSettings settings;
  settings.path = ":memory:";  // an in-memory database has no WAL
  try {
    SqliteSessionStore store(settings);
    FAIL() << "opened without WAL";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("AGENT_SQLITE_PATH: cannot enable WAL for :memory:", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
}

TEST(SqliteSessionStore, MigratesAnOlderSchemaAndKeepsItsData) {
  const auto path = fresh_path();
  const std::string session = new_session_id(now_ms());
  run_sql(path, std::string(kVersion1) + "INSERT INTO sessions VALUES ('olduser', '" + session +
                    "', 'from v1', 1, 2, 3);"
                    "INSERT INTO messages VALUES ('olduser', '" +
                    session +
                    "', 1, 'user', 't_1', '[{\"type\":\"text\",\"text\":\"hello\"}]', "
                    "'complete', '', '', '', 0, 0, 1, 1);"
                    "INSERT INTO messages VALUES ('olduser', '" +
                    session +
                    "', 2, 'assistant', 't_1', '[]', 'running', '', '', '', 0, 0, 1, 1);"
                    "INSERT INTO turn_locks VALUES ('olduser', '" +
                    session + "', 't_1', 'old-proc', 5);");
  SqliteSettings settings;
  settings.path = path;
  SqliteSessionStore store(settings);
  EXPECT_EQ(store.schema_version(), sqlite::schema_target_version());
  EXPECT_EQ(sqlite::schema_target_version(), 2);
  EXPECT_EQ(store.get_session("olduser", session)->title, "from v1");
  const auto messages = store.list_messages("olduser", session, 10, "").items;
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].content[0]["text"], "hello");
  // The next seq continues where version 1 left it.
  EXPECT_EQ(store.append_message("olduser", session, messages[0])->seq, 3);
  // The lock an old agent left is found by the new index and can be recovered.
  const auto abandoned = store.abandoned_turns("", now_ms());
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_EQ(abandoned[0].turn_id, "t_1");
  EXPECT_TRUE(store.claim_turn_lock(abandoned[0], "new-proc", now_ms() + 1000));
}

TEST(SqliteSessionStore, ANewerSchemaIsRefusedWithOneLineNamingTheSettingAndTheFileIsLeftAsItWas) {
  const auto path = fresh_path();
  run_sql(path, "CREATE TABLE from_the_future (x); PRAGMA user_version = 99;");
  const auto before = file_bytes(path);
  SqliteSettings settings;
  settings.path = path;
  try {
    SqliteSessionStore store(settings);
    FAIL() << "opened a newer schema";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what, "AGENT_SQLITE_PATH: " + path +
                        " has schema version 99, newer than this agent understands (2); run a "
                        "newer agent or point AGENT_SQLITE_PATH at another file");
  }
  EXPECT_EQ(file_bytes(path), before);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

}  // namespace
}  // namespace agent::store
