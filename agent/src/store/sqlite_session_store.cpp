#include "store/sqlite_session_store.h"

#include <algorithm>
#include <utility>

#include "identifiers.h"
#include "store/cursor.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_statement.h"

namespace agent::store {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

Session read_session(const Statement& s) {
  return Session{s.text(0), s.text(1), s.text(2), s.integer(3), s.integer(4)};
}

constexpr const char* kMessageColumns =
    "seq, role, turn_id, content, status, stop_reason, error_code, error_message, input_tokens, "
    "output_tokens, created_at, updated_at";

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
    throw StoreError("AGENT_SQLITE_PATH: cannot open " + settings_.path + ": " + why);
  }
  sqlite3_busy_timeout(db_, static_cast<int>(settings_.busy_timeout.count()));
  try {
    sqlite::prepare_database(db_, settings_.path);
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteSessionStore::~SqliteSessionStore() { sqlite3_close(db_); }

int SqliteSessionStore::schema_version() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

std::string SqliteSessionStore::journal_mode() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "PRAGMA journal_mode");
  s.step();
  return s.text(0);
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
  // ':' sorts after every hex digit: the first page starts past the newest id.
  const std::string before = cursor_session_before(cursor).value_or(":");
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT id, user_id, title, created_at, updated_at FROM sessions WHERE user_id = ? "
              "AND id < ? ORDER BY id DESC LIMIT ?");
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
  const auto after = cursor_seq_after(cursor);
  std::lock_guard lock(mutex_);
  Statement s(db_, std::string("SELECT ") + kMessageColumns +
                       " FROM messages WHERE user_id = ? AND session_id = ? AND seq > ? ORDER BY "
                       "seq LIMIT ?");
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

std::vector<StoredMessage> SqliteSessionStore::recent_messages(const std::string& user_id,
                                                               const std::string& session_id,
                                                               int limit, std::int64_t before_seq) {
  std::lock_guard lock(mutex_);
  Statement s(db_, std::string("SELECT ") + kMessageColumns +
                       " FROM messages WHERE user_id = ? AND session_id = ? AND seq < ? ORDER BY "
                       "seq DESC LIMIT ?");
  s.bind(1, user_id)
      .bind(2, session_id)
      .bind(3, before_seq > 0 ? before_seq : INT64_MAX)
      .bind(4, static_cast<std::int64_t>(std::max(limit, 0)));
  std::vector<StoredMessage> messages;
  while (s.step()) messages.push_back(read_message(s));
  std::reverse(messages.begin(), messages.end());
  return messages;
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
  Statement insert(db_, std::string("INSERT INTO messages (user_id, session_id, ") +
                            kMessageColumns +
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
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
              "error_message = ?, input_tokens = ?, output_tokens = ?, updated_at = ? WHERE "
              "user_id = ? AND session_id = ? AND seq = ?");
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

TurnLockGrant SqliteSessionStore::acquire_turn_lock(const std::string& user_id,
                                                    const std::string& session_id,
                                                    const std::string& turn_id,
                                                    const std::string& owner,
                                                    std::int64_t lease_until_ms) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Statement exists(db_, "SELECT 1 FROM sessions WHERE user_id = ? AND id = ?");
  exists.bind(1, user_id).bind(2, session_id);
  if (!exists.step()) return {};
  TurnLockGrant grant;
  Statement held(
      db_, "SELECT turn_id, lease_until FROM turn_locks WHERE user_id = ? AND session_id = ?");
  held.bind(1, user_id).bind(2, session_id);
  const auto now = now_ms();
  if (held.step()) {
    if (held.integer(1) >= now) return {};  // a live turn holds it
    grant.replaced_turn_id = held.text(0);
  }
  Statement s(db_,
              "INSERT INTO turn_locks (user_id, session_id, turn_id, owner, lease_until) VALUES "
              "(?, ?, ?, ?, ?) ON CONFLICT (user_id, session_id) DO UPDATE SET turn_id = "
              "excluded.turn_id, owner = excluded.owner, lease_until = excluded.lease_until");
  s.bind(1, user_id)
      .bind(2, session_id)
      .bind(3, turn_id)
      .bind(4, owner)
      .bind(5, lease_until_ms)
      .step();
  tx.commit();
  grant.acquired = true;
  return grant;
}

bool SqliteSessionStore::renew_turn_lock(const std::string& user_id, const std::string& session_id,
                                         const std::string& turn_id, std::int64_t lease_until_ms) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "UPDATE turn_locks SET lease_until = ? WHERE user_id = ? AND session_id = ? AND "
              "turn_id = ?");
  s.bind(1, lease_until_ms).bind(2, user_id).bind(3, session_id).bind(4, turn_id).step();
  return s.changes() > 0;
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
  // Two indexed lookups (by lease, by owner) rather than one OR that would read every lock.
  Statement s(db_,
              "SELECT user_id, session_id, turn_id, owner, lease_until FROM turn_locks WHERE "
              "lease_until < ?1 UNION SELECT user_id, session_id, turn_id, owner, lease_until "
              "FROM turn_locks WHERE ?2 <> '' AND owner = ?2");
  s.bind(1, now).bind(2, owner);
  std::vector<AbandonedTurn> turns;
  while (s.step())
    turns.push_back(AbandonedTurn{s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4)});
  return turns;
}

bool SqliteSessionStore::claim_turn_lock(const AbandonedTurn& seen, const std::string& claimer,
                                         std::int64_t lease_until_ms) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "UPDATE turn_locks SET owner = ?, lease_until = ? WHERE user_id = ? AND session_id "
              "= ? AND turn_id = ? AND owner = ? AND lease_until = ?");
  s.bind(1, claimer)
      .bind(2, lease_until_ms)
      .bind(3, seen.user_id)
      .bind(4, seen.session_id)
      .bind(5, seen.turn_id)
      .bind(6, seen.owner)
      .bind(7, seen.lease_until_ms)
      .step();
  return s.changes() > 0;
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
