#include "store/sqlite_session_store.h"

#include <utility>

#include "identifiers.h"
#include "store/cursor.h"

namespace agent::store {
namespace {

// Each entry moves the schema from version i to i+1. Never edit a released entry; append.
constexpr const char* kMigrations[] = {
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
};

// A prepared statement that finalizes itself; binds by position from 1.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  int changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when left by an exception.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { run("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    run("COMMIT");
    done_ = true;
  }

 private:
  void run(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string why = error ? error : "unknown";
      sqlite3_free(error);
      throw StoreError(std::string("sqlite ") + sql + ": " + why);
    }
  }
  sqlite3* db_;
  bool done_ = false;
};

Session read_session(const Statement& s) {
  return Session{s.text(0), s.text(1), s.text(2), s.integer(3), s.integer(4)};
}

constexpr const char* kMessageColumns =
    "seq, role, turn_id, content, status, stop_reason, error_code, error_message, input_tokens, "
    "output_tokens, "
    "created_at, updated_at";

StoredMessage read_message(const Statement& s) {
  StoredMessage m;
  m.seq = s.integer(0);
  m.role = s.text(1);
  m.turn_id = s.text(2);
  m.content = nlohmann::json::parse(s.text(3), nullptr, false);
  if (m.content.is_discarded() || !m.content.is_array()) m.content = nlohmann::json::array();
  m.status = s.text(4);
  m.stop_reason = s.text(5);
  m.error_code = s.text(6);
  m.error_message = s.text(7);
  m.input_tokens = s.integer(8);
  m.output_tokens = s.integer(9);
  m.created_at_ms = s.integer(10);
  m.updated_at_ms = s.integer(11);
  return m;
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

SqliteSessionStore::SqliteSessionStore(SqliteSettings settings) : settings_(std::move(settings)) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(settings_.path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open " + settings_.path + ": " + why);
  }
  sqlite3_busy_timeout(db_, static_cast<int>(settings_.busy_timeout.count()));
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
    migrate();
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteSessionStore::~SqliteSessionStore() { sqlite3_close(db_); }

void SqliteSessionStore::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error ? error : "unknown";
    sqlite3_free(error);
    throw StoreError("sqlite: " + why);
  }
}

int SqliteSessionStore::schema_version() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

void SqliteSessionStore::migrate() {
  const int target = static_cast<int>(std::size(kMigrations));
  Transaction tx(db_);
  Statement version(db_, "PRAGMA user_version");
  version.step();
  const int current = static_cast<int>(version.integer(0));
  if (current > target)
    throw StoreError("the database schema (version " + std::to_string(current) +
                     ") is newer than this agent understands (" + std::to_string(target) + ")");
  for (int v = current; v < target; ++v) exec(kMigrations[v]);
  if (current != target) exec(("PRAGMA user_version=" + std::to_string(target)).c_str());
  tx.commit();
}

Session SqliteSessionStore::create_session(const std::string& user_id, const std::string& title) {
  std::lock_guard lock(mutex_);
  const auto now = now_ms();
  Session session{new_session_id(now), user_id, title, now, now};
  Statement s(
      db_,
      "INSERT INTO sessions (user_id, id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)");
  s.bind(1, user_id).bind(2, session.id).bind(3, title).bind(4, now).bind(5, now).step();
  return session;
}

std::optional<Session> SqliteSessionStore::get_session(const std::string& user_id,
                                                       const std::string& session_id) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT id, user_id, title, created_at, updated_at FROM sessions WHERE user_id = ? "
              "AND id = ?");
  s.bind(1, user_id).bind(2, session_id);
  if (!s.step()) return std::nullopt;
  return read_session(s);
}

Page<Session> SqliteSessionStore::list_sessions(const std::string& user_id, int limit,
                                                const std::string& cursor) {
  const auto position = decode_cursor(cursor);
  const std::string before =
      position.value("before", std::string(":"));  // ':' sorts after every hex digit
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT id, user_id, title, created_at, updated_at FROM sessions WHERE user_id = ? "
              "AND id < ? "
              "ORDER BY id DESC LIMIT ?");
  s.bind(1, user_id).bind(2, before).bind(3, static_cast<std::int64_t>(limit) + 1);
  Page<Session> page;
  while (s.step()) page.items.push_back(read_session(s));
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.pop_back();
    page.next_cursor = encode_cursor({{"before", page.items.back().id}});
  }
  return page;
}

std::optional<Session> SqliteSessionStore::rename_session(const std::string& user_id,
                                                          const std::string& session_id,
                                                          const std::string& title) {
  {
    std::lock_guard lock(mutex_);
    Statement s(db_, "UPDATE sessions SET title = ?, updated_at = ? WHERE user_id = ? AND id = ?");
    s.bind(1, title).bind(2, now_ms()).bind(3, user_id).bind(4, session_id).step();
    if (s.changes() == 0) return std::nullopt;
  }
  return get_session(user_id, session_id);
}

bool SqliteSessionStore::delete_session(const std::string& user_id, const std::string& session_id) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Statement m(db_, "DELETE FROM messages WHERE user_id = ? AND session_id = ?");
  m.bind(1, user_id).bind(2, session_id).step();
  Statement l(db_, "DELETE FROM turn_locks WHERE user_id = ? AND session_id = ?");
  l.bind(1, user_id).bind(2, session_id).step();
  Statement s(db_, "DELETE FROM sessions WHERE user_id = ? AND id = ?");
  s.bind(1, user_id).bind(2, session_id).step();
  const bool existed = s.changes() > 0;
  tx.commit();
  return existed;
}

Page<StoredMessage> SqliteSessionStore::list_messages(const std::string& user_id,
                                                      const std::string& session_id, int limit,
                                                      const std::string& cursor) {
  const auto position = decode_cursor(cursor);
  const auto after = position.value("after", std::int64_t{0});
  std::lock_guard lock(mutex_);
  Statement s(
      db_, (std::string("SELECT ") + kMessageColumns +
            " FROM messages WHERE user_id = ? AND session_id = ? AND seq > ? ORDER BY seq LIMIT ?")
               .c_str());
  s.bind(1, user_id)
      .bind(2, session_id)
      .bind(3, after)
      .bind(4, static_cast<std::int64_t>(limit) + 1);
  Page<StoredMessage> page;
  while (s.step()) page.items.push_back(read_message(s));
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.pop_back();
    page.next_cursor = encode_cursor({{"after", page.items.back().seq}});
  }
  return page;
}

std::optional<StoredMessage> SqliteSessionStore::append_message(const std::string& user_id,
                                                                const std::string& session_id,
                                                                StoredMessage message) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  const auto now = now_ms();
  Statement next(
      db_,
      "UPDATE sessions SET next_seq = next_seq + 1, updated_at = ? WHERE user_id = ? AND id = ? "
      "RETURNING next_seq - 1");
  next.bind(1, now).bind(2, user_id).bind(3, session_id);
  if (!next.step()) return std::nullopt;
  message.seq = next.integer(0);
  while (next.step()) {
  }
  if (message.created_at_ms == 0) message.created_at_ms = now;
  message.updated_at_ms = now;
  Statement insert(db_, (std::string("INSERT INTO messages (user_id, session_id, ") +
                         kMessageColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                            .c_str());
  insert.bind(1, user_id)
      .bind(2, session_id)
      .bind(3, message.seq)
      .bind(4, message.role)
      .bind(5, message.turn_id);
  insert.bind(6, dump(message.content)).bind(7, message.status).bind(8, message.stop_reason);
  insert.bind(9, message.error_code).bind(10, message.error_message).bind(11, message.input_tokens);
  insert.bind(12, message.output_tokens)
      .bind(13, message.created_at_ms)
      .bind(14, message.updated_at_ms);
  insert.step();
  tx.commit();
  return message;
}

bool SqliteSessionStore::update_message(const std::string& user_id, const std::string& session_id,
                                        const StoredMessage& message) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "UPDATE messages SET content = ?, status = ?, stop_reason = ?, error_code = ?, "
              "error_message = ?, "
              "input_tokens = ?, output_tokens = ?, updated_at = ? WHERE user_id = ? AND "
              "session_id = ? AND seq = ?");
  s.bind(1, dump(message.content))
      .bind(2, message.status)
      .bind(3, message.stop_reason)
      .bind(4, message.error_code);
  s.bind(5, message.error_message)
      .bind(6, message.input_tokens)
      .bind(7, message.output_tokens)
      .bind(8, now_ms());
  s.bind(9, user_id).bind(10, session_id).bind(11, message.seq);
  s.step();
  return s.changes() > 0;
}

bool SqliteSessionStore::acquire_turn_lock(const std::string& user_id,
                                           const std::string& session_id,
                                           const std::string& turn_id, const std::string& owner,
                                           std::int64_t lease_until_ms) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Statement exists(db_, "SELECT 1 FROM sessions WHERE user_id = ? AND id = ?");
  exists.bind(1, user_id).bind(2, session_id);
  if (!exists.step()) return false;
  Statement s(db_,
              "INSERT INTO turn_locks (user_id, session_id, turn_id, owner, lease_until) VALUES "
              "(?, ?, ?, ?, ?) "
              "ON CONFLICT (user_id, session_id) DO UPDATE SET turn_id = excluded.turn_id, owner = "
              "excluded.owner, "
              "lease_until = excluded.lease_until WHERE turn_locks.lease_until < ?");
  s.bind(1, user_id)
      .bind(2, session_id)
      .bind(3, turn_id)
      .bind(4, owner)
      .bind(5, lease_until_ms)
      .bind(6, now_ms());
  s.step();
  const bool taken = s.changes() > 0;
  tx.commit();
  return taken;
}

void SqliteSessionStore::release_turn_lock(const std::string& user_id,
                                           const std::string& session_id,
                                           const std::string& turn_id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM turn_locks WHERE user_id = ? AND session_id = ? AND turn_id = ?");
  s.bind(1, user_id).bind(2, session_id).bind(3, turn_id).step();
}

std::vector<AbandonedTurn> SqliteSessionStore::abandoned_turns(const std::string& owner,
                                                               std::int64_t now) {
  std::lock_guard lock(mutex_);
  Statement s(
      db_,
      "SELECT user_id, session_id, turn_id FROM turn_locks WHERE owner = ? OR lease_until < ?");
  s.bind(1, owner).bind(2, now);
  std::vector<AbandonedTurn> turns;
  while (s.step()) turns.push_back(AbandonedTurn{s.text(0), s.text(1), s.text(2)});
  return turns;
}

std::string SqliteSessionStore::check_ready() {
  std::lock_guard lock(mutex_);
  try {
    Statement s(db_, "SELECT count(*) FROM sqlite_master");
    s.step();
    return "";
  } catch (const StoreError& e) {
    return e.what();
  }
}

}  // namespace agent::store
