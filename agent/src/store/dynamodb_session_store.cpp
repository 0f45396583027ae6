// Sessions and messages in the DynamoDB table; turn locks are in dynamodb_turn_locks.cpp, the
// table itself in dynamodb_table.cpp.
#include "store/dynamodb_session_store.h"

#include <algorithm>
#include <thread>

#include "identifiers.h"
#include "store/cursor.h"
#include "store/dynamodb_items.h"

namespace agent::store {

using nlohmann::json;
using namespace dynamo;

namespace {

constexpr const char* kLastMessageSk = "M#999999999999#9999";
// A reader that races a writer replacing a multi-part message reads again this many times.
constexpr int kTornReadAttempts = 5;

Session session_from(const json& item, const std::string& user) {
  const std::string sk = get_s(item, "sk");
  return Session{sk.size() > 2 ? sk.substr(2) : "", user, get_s(item, "title"),
                 get_n(item, "created_at"), get_n(item, "updated_at")};
}

}  // namespace

Session DynamoSessionStore::create_session(const std::string& user_id, const std::string& title) {
  const auto now = now_ms();
  Session session{new_session_id(now), user_id, title, now, now};
  json item = key(user_pk(user_id), session_sk(session.id));
  item["kind"] = S("session");
  item["title"] = S(title);
  item["created_at"] = N(now);
  item["updated_at"] = N(now);
  add_ttl(item);
  call("PutItem", {{"TableName", settings_.table},
                   {"Item", item},
                   {"ConditionExpression", "attribute_not_exists(pk)"}});
  return session;
}

std::optional<Session> DynamoSessionStore::get_session(const std::string& user_id,
                                                       const std::string& session_id) {
  const auto r = call("GetItem", {{"TableName", settings_.table},
                                  {"Key", key(user_pk(user_id), session_sk(session_id))},
                                  {"ConsistentRead", true}});
  if (!r.contains("Item")) return std::nullopt;
  return session_from(r["Item"], user_id);
}

Page<Session> DynamoSessionStore::list_sessions(const std::string& user_id, int limit,
                                                const std::string& cursor) {
  const auto before = cursor_session_before(cursor);
  json request = {
      {"TableName", settings_.table},
      {"KeyConditionExpression", "pk = :pk AND begins_with(sk, :prefix)"},
      {"ExpressionAttributeValues", {{":pk", S(user_pk(user_id))}, {":prefix", S("S#")}}},
      {"ScanIndexForward", false},
      {"Limit", limit + 1}};
  if (before) request["ExclusiveStartKey"] = key(user_pk(user_id), session_sk(*before));
  Page<Session> page;
  // A page may stop short of Limit (the 1 MB read limit): follow LastEvaluatedKey.
  while (static_cast<int>(page.items.size()) <= limit) {
    request["Limit"] = limit + 1 - static_cast<int>(page.items.size());
    const auto r = call("Query", request);
    for (const auto& item : r.value("Items", json::array()))
      page.items.push_back(session_from(item, user_id));
    if (!r.contains("LastEvaluatedKey")) break;
    request["ExclusiveStartKey"] = r["LastEvaluatedKey"];
  }
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.resize(static_cast<std::size_t>(limit));
    page.next_cursor = encode_cursor({{"before", page.items.back().id}});
  }
  return page;
}

std::optional<Session> DynamoSessionStore::rename_session(const std::string& user_id,
                                                          const std::string& session_id,
                                                          const std::string& title) {
  json values = {{":title", S(title)}, {":now", N(now_ms())}};
  json names = {{"#title", "title"}, {"#updated", "updated_at"}};
  std::string update = "SET #title = :title, #updated = :now";
  if (settings_.ttl.count() > 0) {
    values[":exp"] = N(now_ms() / 1000 + settings_.ttl.count());
    names["#expires"] = "expires_at";
    update += ", #expires = :exp";
  }
  try {
    const auto r = call("UpdateItem", {{"TableName", settings_.table},
                                       {"Key", key(user_pk(user_id), session_sk(session_id))},
                                       {"UpdateExpression", update},
                                       {"ConditionExpression", "attribute_exists(pk)"},
                                       {"ExpressionAttributeNames", names},
                                       {"ExpressionAttributeValues", values},
                                       {"ReturnValues", "ALL_NEW"}});
    return session_from(r["Attributes"], user_id);
  } catch (const shared::aws::AwsError&) {  // ConditionalCheckFailed: no such session
    return std::nullopt;
  }
}

void DynamoSessionStore::delete_keys(const std::vector<json>& keys) {
  for (std::size_t start = 0; start < keys.size(); start += 25) {
    json requests = json::array();
    for (std::size_t i = start; i < std::min(keys.size(), start + 25); ++i)
      requests.push_back({{"DeleteRequest", {{"Key", keys[i]}}}});
    json pending = {{settings_.table, requests}};
    for (int attempt = 0; attempt < 8 && !pending.empty(); ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
      const auto r = call("BatchWriteItem", {{"RequestItems", pending}});
      pending = r.value("UnprocessedItems", json::object());
    }
    if (!pending.empty())
      throw StoreError("DynamoDB BatchWriteItem: items left unprocessed after retries");
  }
}

void DynamoSessionStore::delete_message_parts(const std::string& pk, std::int64_t seq,
                                              std::size_t from, std::size_t to) {
  std::vector<json> keys;
  for (std::size_t i = from; i < to; ++i) keys.push_back(key(pk, message_sk(seq, i)));
  delete_keys(keys);
}

bool DynamoSessionStore::delete_session(const std::string& user_id, const std::string& session_id) {
  // The session item goes first: from then on appends fail, and a write already past that check
  // finds the session gone afterwards and removes what it wrote (see append_message), so nothing
  // is left in the partition that is being emptied.
  const auto r = call("DeleteItem", {{"TableName", settings_.table},
                                     {"Key", key(user_pk(user_id), session_sk(session_id))},
                                     {"ReturnValues", "ALL_OLD"}});
  const bool existed = r.contains("Attributes");
  json request = {{"TableName", settings_.table},
                  {"KeyConditionExpression", "pk = :pk"},
                  {"ExpressionAttributeValues", {{":pk", S(session_pk(user_id, session_id))}}},
                  {"ProjectionExpression", "pk, sk"},
                  {"ConsistentRead", true}};
  while (true) {
    const auto page = call("Query", request);
    std::vector<json> keys;
    for (const auto& item : page.value("Items", json::array())) keys.push_back(item);
    delete_keys(keys);
    if (!page.contains("LastEvaluatedKey")) break;
    request["ExclusiveStartKey"] = page["LastEvaluatedKey"];
  }
  return existed;
}

std::optional<std::size_t> DynamoSessionStore::put_message_parts(const std::string& user_id,
                                                                 const std::string& session_id,
                                                                 const StoredMessage& message,
                                                                 bool create) {
  const auto body = message.content.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto slices = split_utf8(body, settings_.part_bytes);
  const auto revision = random_hex(4);
  const auto pk = session_pk(user_id, session_id);
  const char* condition = create ? "attribute_not_exists(pk)" : "attribute_exists(pk)";
  // Tail parts first, the head last: a reader that sees the head finds its parts in place.
  std::size_t tails_written = 0;
  try {
    for (std::size_t i = slices.size(); i-- > 1;) {
      json item = key(pk, message_sk(message.seq, i));
      item["kind"] = S("message_part");
      item["body"] = S(slices[i]);
      item["rev"] = S(revision);
      add_ttl(item);
      json request = {{"TableName", settings_.table}, {"Item", item}};
      // A replacement overwrites the old revision's tails; a new message never overwrites.
      if (create) request["ConditionExpression"] = condition;
      call("PutItem", request);
      ++tails_written;
    }
    json head = key(pk, message_sk(message.seq, 0));
    head["kind"] = S("message");
    head["body"] = S(slices[0]);
    head["rev"] = S(revision);
    head["parts"] = N(static_cast<std::int64_t>(slices.size()));
    head["role"] = S(message.role);
    head["turn_id"] = S(message.turn_id);
    head["status"] = S(message.status);
    head["stop_reason"] = S(message.stop_reason);
    head["error_code"] = S(message.error_code);
    head["error_message"] = S(message.error_message);
    head["input_tokens"] = N(message.input_tokens);
    head["output_tokens"] = N(message.output_tokens);
    head["created_at"] = N(message.created_at_ms);
    head["updated_at"] = N(message.updated_at_ms);
    add_ttl(head);
    call("PutItem",
         {{"TableName", settings_.table}, {"Item", head}, {"ConditionExpression", condition}});
  } catch (const shared::aws::AwsError&) {
    // The tails this call wrote (the highest parts, written first) would be orphans: the
    // message is gone (its session deleted) or the seq was not ours.
    delete_message_parts(pk, message.seq, slices.size() - tails_written, slices.size());
    return std::nullopt;
  }
  return slices.size();
}

std::optional<StoredMessage> DynamoSessionStore::append_message(const std::string& user_id,
                                                                const std::string& session_id,
                                                                StoredMessage message) {
  const auto now = now_ms();
  json values = {{":one", N(1)}, {":now", N(now)}};
  json names = {{"#updated", "updated_at"}, {"#seq", "next_seq"}};
  std::string update = "SET #updated = :now ADD #seq :one";
  if (settings_.ttl.count() > 0) {
    values[":exp"] = N(now / 1000 + settings_.ttl.count());
    names["#expires"] = "expires_at";
    update = "SET #updated = :now, #expires = :exp ADD #seq :one";
  }
  json counter;
  try {
    counter = call("UpdateItem", {{"TableName", settings_.table},
                                  {"Key", key(user_pk(user_id), session_sk(session_id))},
                                  {"UpdateExpression", update},
                                  {"ConditionExpression", "attribute_exists(pk)"},
                                  {"ExpressionAttributeNames", names},
                                  {"ExpressionAttributeValues", values},
                                  {"ReturnValues", "UPDATED_NEW"}});
  } catch (const shared::aws::AwsError&) {  // ConditionalCheckFailed: no such session
    return std::nullopt;
  }
  message.seq = get_n(counter["Attributes"], "next_seq");
  if (message.created_at_ms == 0) message.created_at_ms = now;
  message.updated_at_ms = now;
  const auto parts = put_message_parts(user_id, session_id, message, true);
  // The seq was handed out twice: only possible if the counter was reset. Never overwrite.
  if (!parts) throw StoreError("message " + std::to_string(message.seq) + " already exists");
  // A delete that ran between the counter and these writes emptied the partition before they
  // landed. Looking after the write closes that gap: a delete that starts later still finds
  // and removes them, and one that already removed the session item is seen here.
  if (!get_session(user_id, session_id)) {
    delete_message_parts(session_pk(user_id, session_id), message.seq, 0, *parts);
    return std::nullopt;
  }
  return message;
}

bool DynamoSessionStore::update_message(const std::string& user_id, const std::string& session_id,
                                        const StoredMessage& message) {
  const auto pk = session_pk(user_id, session_id);
  const auto head = call("GetItem", {{"TableName", settings_.table},
                                     {"Key", key(pk, message_sk(message.seq, 0))},
                                     {"ProjectionExpression", "#parts"},
                                     {"ExpressionAttributeNames", {{"#parts", "parts"}}},
                                     {"ConsistentRead", true}});
  if (!head.contains("Item")) return false;
  const auto old_parts =
      static_cast<std::size_t>(std::max<std::int64_t>(1, get_n(head["Item"], "parts")));
  StoredMessage updated = message;
  updated.updated_at_ms = now_ms();
  const auto new_parts = put_message_parts(user_id, session_id, updated, false);
  if (!new_parts) return false;  // the message (and its session) is gone
  if (*new_parts < old_parts) delete_message_parts(pk, message.seq, *new_parts, old_parts);
  return true;
}

DynamoSessionStore::MessageItems DynamoSessionStore::query_message_items(
    json request, const std::function<bool(const MessageItems&)>& enough) {
  MessageItems items;
  while (true) {
    const auto r = call("Query", request);
    for (const auto& item : r.value("Items", json::array()))
      if (const auto seq = message_seq(get_s(item, "sk"))) items[*seq].push_back(item);
    if (!r.contains("LastEvaluatedKey") || enough(items)) break;
    request["ExclusiveStartKey"] = r["LastEvaluatedKey"];
  }
  return items;
}

Page<StoredMessage> DynamoSessionStore::list_messages(const std::string& user_id,
                                                      const std::string& session_id, int limit,
                                                      const std::string& cursor) {
  const auto after = cursor_seq_after(cursor);
  for (int attempt = 0;; ++attempt) {
    // Items, not messages, count against Limit: a long message is several. Past limit + 1 seqs,
    // the first limit + 1 are whole (a seq's parts are adjacent), which fills the page and tells
    // whether there is a next one.
    const json request = {{"TableName", settings_.table},
                          {"KeyConditionExpression", "pk = :pk AND sk BETWEEN :from AND :to"},
                          {"ExpressionAttributeValues",
                           {{":pk", S(session_pk(user_id, session_id))},
                            {":from", S(message_sk(after + 1, 0))},
                            {":to", S(kLastMessageSk)}}},
                          {"ConsistentRead", true},
                          {"Limit", limit + 2}};
    const auto items = query_message_items(request, [&](const MessageItems& seen) {
      return static_cast<int>(seen.size()) > limit + 1;
    });
    Page<StoredMessage> page;
    bool torn = false;
    for (const auto& [seq, parts] : items) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_cursor = encode_cursor({{"after", page.items.back().seq}});
        break;
      }
      auto assembled = assemble_message(seq, parts);
      if (assembled.state == AssembledMessage::State::kNoHead) continue;
      if (assembled.state == AssembledMessage::State::kTorn) {
        torn = true;
        break;
      }
      page.items.push_back(std::move(assembled.message));
    }
    if (!torn || attempt >= kTornReadAttempts) return page;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
  }
}

std::vector<StoredMessage> DynamoSessionStore::recent_messages(const std::string& user_id,
                                                               const std::string& session_id,
                                                               int limit, std::int64_t before_seq) {
  if (limit <= 0 || before_seq == 1) return {};
  const std::string to = before_seq > 1 ? message_sk(before_seq - 1, 9999) : kLastMessageSk;
  for (int attempt = 0;; ++attempt) {
    // Backwards, a message's tails come before its head: a seq whose head was read is whole.
    const json request = {{"TableName", settings_.table},
                          {"KeyConditionExpression", "pk = :pk AND sk BETWEEN :from AND :to"},
                          {"ExpressionAttributeValues",
                           {{":pk", S(session_pk(user_id, session_id))},
                            {":from", S(message_sk(0, 0))},
                            {":to", S(to)}}},
                          {"ScanIndexForward", false},
                          {"ConsistentRead", true},
                          {"Limit", limit + 1}};
    const auto items = query_message_items(request, [&](const MessageItems& seen) {
      int heads = 0;
      for (const auto& [seq, parts] : seen)
        for (const auto& part : parts)
          if (get_s(part, "kind") == "message") ++heads;
      return heads >= limit;
    });
    std::vector<StoredMessage> newest_first;
    bool torn = false;
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      if (static_cast<int>(newest_first.size()) == limit) break;
      auto assembled = assemble_message(it->first, it->second);
      if (assembled.state == AssembledMessage::State::kNoHead) continue;
      if (assembled.state == AssembledMessage::State::kTorn) {
        torn = true;
        break;
      }
      newest_first.push_back(std::move(assembled.message));
    }
    if (!torn || attempt >= kTornReadAttempts)
      return std::vector<StoredMessage>(newest_first.rbegin(), newest_first.rend());
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
  }
}

}  // namespace agent::store
