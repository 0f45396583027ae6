#include "store/dynamodb_session_store.h"

#include <cstdio>
#include <map>
#include <thread>

#include "identifiers.h"
#include "shared/http_client.h"
#include "shared/logging.h"
#include "store/cursor.h"

namespace agent::store {
namespace {

using nlohmann::json;

json S(const std::string& v) { return {{"S", v}}; }
json N(std::int64_t v) { return {{"N", std::to_string(v)}}; }

std::string get_s(const json& item, const char* name) {
  auto it = item.find(name);
  if (it == item.end() || !it->contains("S")) return "";
  return (*it)["S"].get<std::string>();
}

std::int64_t get_n(const json& item, const char* name) {
  auto it = item.find(name);
  if (it == item.end() || !it->contains("N")) return 0;
  try {
    return std::stoll((*it)["N"].get<std::string>());
  } catch (const std::exception&) {
    return 0;
  }
}

std::string user_pk(const std::string& user) { return "U#" + user; }
std::string session_sk(const std::string& session) { return "S#" + session; }
std::string session_pk(const std::string& user, const std::string& session) {
  return "U#" + user + "#S#" + session;
}
std::string message_sk(std::int64_t seq, std::size_t part) {
  char text[40];
  std::snprintf(text, sizeof text, "M#%012lld#%04zu", static_cast<long long>(seq), part);
  return text;
}
constexpr const char* kLockSk = "LOCK";

json key(const std::string& pk, const std::string& sk) { return {{"pk", S(pk)}, {"sk", S(sk)}}; }

Session session_from(const json& item, const std::string& user) {
  const std::string sk = get_s(item, "sk");
  return Session{sk.size() > 2 ? sk.substr(2) : "", user, get_s(item, "title"),
                 get_n(item, "created_at"), get_n(item, "updated_at")};
}

// Splits text into slices of at most max bytes without cutting a UTF-8 sequence (DynamoDB
// strings must be valid UTF-8).
std::vector<std::string> split_utf8(const std::string& text, std::size_t max) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + max);
    while (end < text.size() && end > start &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
      --end;
    parts.push_back(text.substr(start, end - start));
    start = end;
  }
  if (parts.empty()) parts.emplace_back();
  return parts;
}

bool is_code(const shared::aws::AwsError& e, const char* code) { return e.code() == code; }

}  // namespace

DynamoSessionStore::DynamoSessionStore(DynamoSettingsForStore settings,
                                       std::shared_ptr<shared::aws::AwsJsonClient> client)
    : settings_(std::move(settings)), client_(std::move(client)) {
  if (settings_.create_table) ensure_table();
}

json DynamoSessionStore::call(const std::string& operation, const json& body) {
  try {
    return client_->call("DynamoDB_20120810." + operation, body);
  } catch (const shared::aws::AwsError& e) {
    if (is_code(e, "ConditionalCheckFailedException")) throw;
    throw StoreError("DynamoDB " + operation + ": " + e.what());
  } catch (const shared::http::TransportError& e) {
    throw StoreError("DynamoDB " + operation + ": " + e.what());
  } catch (const shared::aws::CredentialsError& e) {
    throw StoreError("DynamoDB " + operation + ": " + e.what());
  }
}

void DynamoSessionStore::add_ttl(json& item) const {
  if (settings_.ttl.count() > 0) item["expires_at"] = N(now_ms() / 1000 + settings_.ttl.count());
}

void DynamoSessionStore::ensure_table() {
  try {
    call("DescribeTable", {{"TableName", settings_.table}});
    return;
  } catch (const StoreError& e) {
    if (std::string(e.what()).find("ResourceNotFoundException") == std::string::npos) throw;
  }
  shared::log::info("creating the DynamoDB table", {{"table", settings_.table}});
  try {
    call("CreateTable", {{"TableName", settings_.table},
                         {"AttributeDefinitions",
                          {{{"AttributeName", "pk"}, {"AttributeType", "S"}},
                           {{"AttributeName", "sk"}, {"AttributeType", "S"}}}},
                         {"KeySchema",
                          {{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                           {{"AttributeName", "sk"}, {"KeyType", "RANGE"}}}},
                         {"BillingMode", "PAY_PER_REQUEST"}});
  } catch (const StoreError& e) {
    // Another process may have created it meanwhile.
    if (std::string(e.what()).find("ResourceInUseException") == std::string::npos) throw;
  }
  for (int i = 0; i < 300; ++i) {
    const auto described = call("DescribeTable", {{"TableName", settings_.table}});
    if (described["Table"].value("TableStatus", "") == "ACTIVE") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (settings_.ttl.count() > 0) {
    try {
      call("UpdateTimeToLive",
           {{"TableName", settings_.table},
            {"TimeToLiveSpecification", {{"Enabled", true}, {"AttributeName", "expires_at"}}}});
    } catch (const StoreError& e) {
      shared::log::warn("cannot enable TTL on the table; items keep expires_at anyway",
                        {{"error", e.what()}});
    }
  }
}

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
  const auto position = decode_cursor(cursor);
  json request = {
      {"TableName", settings_.table},
      {"KeyConditionExpression", "pk = :pk AND begins_with(sk, :prefix)"},
      {"ExpressionAttributeValues", {{":pk", S(user_pk(user_id))}, {":prefix", S("S#")}}},
      {"ScanIndexForward", false},
      {"Limit", limit + 1}};
  if (position.contains("before")) {
    if (!position["before"].is_string() || !is_session_id(position["before"].get<std::string>()))
      throw BadCursor();
    request["ExclusiveStartKey"] =
        key(user_pk(user_id), session_sk(position["before"].get<std::string>()));
  }
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

bool DynamoSessionStore::delete_session(const std::string& user_id, const std::string& session_id) {
  // The session item goes first: from then on appends fail, so nothing new lands in the
  // partition that is being emptied.
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

void DynamoSessionStore::put_message_parts(const std::string& user_id,
                                           const std::string& session_id,
                                           const StoredMessage& message, bool create,
                                           std::size_t* parts_written) {
  const auto body = message.content.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto slices = split_utf8(body, settings_.part_bytes);
  const auto revision = random_hex(4);
  const auto pk = session_pk(user_id, session_id);
  // Tail parts first, the head last: a reader that sees the head finds its parts in place.
  for (std::size_t i = slices.size(); i-- > 1;) {
    json item = key(pk, message_sk(message.seq, i));
    item["kind"] = S("message_part");
    item["body"] = S(slices[i]);
    item["rev"] = S(revision);
    add_ttl(item);
    call("PutItem", {{"TableName", settings_.table}, {"Item", item}});
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
       {{"TableName", settings_.table},
        {"Item", head},
        {"ConditionExpression", create ? "attribute_not_exists(pk)" : "attribute_exists(pk)"}});
  if (parts_written) *parts_written = slices.size();
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
  try {
    put_message_parts(user_id, session_id, message, true, nullptr);
  } catch (const shared::aws::AwsError&) {
    // The seq was handed out twice: only possible if the counter was reset. Never overwrite.
    throw StoreError("message " + std::to_string(message.seq) + " already exists");
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
  std::size_t new_parts = 0;
  try {
    put_message_parts(user_id, session_id, updated, false, &new_parts);
  } catch (const shared::aws::AwsError&) {  // the message (and its session) is gone
    return false;
  }
  std::vector<json> stale;
  for (std::size_t i = new_parts; i < old_parts; ++i)
    stale.push_back(key(pk, message_sk(message.seq, i)));
  delete_keys(stale);
  return true;
}

Page<StoredMessage> DynamoSessionStore::list_messages(const std::string& user_id,
                                                      const std::string& session_id, int limit,
                                                      const std::string& cursor) {
  const auto position = decode_cursor(cursor);
  std::int64_t after = 0;
  if (position.contains("after")) {
    if (!position["after"].is_number_integer()) throw BadCursor();
    after = position["after"].get<std::int64_t>();
  }
  // A reader can race a writer that is replacing a multi-part message; read again when the parts
  // do not match their head's revision.
  for (int attempt = 0;; ++attempt) {
    json request = {{"TableName", settings_.table},
                    {"KeyConditionExpression", "pk = :pk AND sk BETWEEN :from AND :to"},
                    {"ExpressionAttributeValues",
                     {{":pk", S(session_pk(user_id, session_id))},
                      {":from", S(message_sk(after + 1, 0))},
                      {":to", S("M#999999999999#9999")}}},
                    {"ConsistentRead", true}};
    std::map<std::int64_t, std::vector<json>> items;  // seq -> parts in sk order
    while (true) {
      const auto r = call("Query", request);
      for (const auto& item : r.value("Items", json::array())) {
        const auto sk = get_s(item, "sk");
        const auto seq = std::stoll(sk.substr(2, 12));
        items[seq].push_back(item);
      }
      // Enough whole messages: more than limit seqs seen and the last one complete.
      if (!r.contains("LastEvaluatedKey")) break;
      if (static_cast<int>(items.size()) > limit + 1) break;
      request["ExclusiveStartKey"] = r["LastEvaluatedKey"];
    }
    Page<StoredMessage> page;
    bool consistent = true;
    for (const auto& [seq, parts] : items) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_cursor = encode_cursor({{"after", page.items.back().seq}});
        break;
      }
      const auto& head = parts.front();
      if (get_s(head, "kind") != "message") continue;  // parts without a head: a write in flight
      const auto expected = static_cast<std::size_t>(get_n(head, "parts"));
      const auto revision = get_s(head, "rev");
      std::string body;
      bool complete = parts.size() == expected;
      for (const auto& part : parts) {
        if (get_s(part, "rev") != revision) complete = false;
        body += get_s(part, "body");
      }
      if (!complete) {
        consistent = false;
        break;
      }
      StoredMessage m;
      m.seq = seq;
      m.role = get_s(head, "role");
      m.turn_id = get_s(head, "turn_id");
      m.content = json::parse(body, nullptr, false);
      if (m.content.is_discarded() || !m.content.is_array()) m.content = json::array();
      m.status = get_s(head, "status");
      m.stop_reason = get_s(head, "stop_reason");
      m.error_code = get_s(head, "error_code");
      m.error_message = get_s(head, "error_message");
      m.input_tokens = get_n(head, "input_tokens");
      m.output_tokens = get_n(head, "output_tokens");
      m.created_at_ms = get_n(head, "created_at");
      m.updated_at_ms = get_n(head, "updated_at");
      page.items.push_back(std::move(m));
    }
    if (consistent || attempt >= 5) return page;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
  }
}

bool DynamoSessionStore::acquire_turn_lock(const std::string& user_id,
                                           const std::string& session_id,
                                           const std::string& turn_id, const std::string& owner,
                                           std::int64_t lease_until_ms) {
  if (!get_session(user_id, session_id)) return false;
  json item = key(session_pk(user_id, session_id), kLockSk);
  item["kind"] = S("lock");
  item["user_id"] = S(user_id);
  item["session_id"] = S(session_id);
  item["turn_id"] = S(turn_id);
  item["owner"] = S(owner);
  item["lease_until"] = N(lease_until_ms);
  add_ttl(item);
  try {
    call("PutItem", {{"TableName", settings_.table},
                     {"Item", item},
                     {"ConditionExpression", "attribute_not_exists(pk) OR #lease < :now"},
                     {"ExpressionAttributeNames", {{"#lease", "lease_until"}}},
                     {"ExpressionAttributeValues", {{":now", N(now_ms())}}}});
    return true;
  } catch (const shared::aws::AwsError&) {  // held by a live turn
    return false;
  }
}

void DynamoSessionStore::release_turn_lock(const std::string& user_id,
                                           const std::string& session_id,
                                           const std::string& turn_id) {
  try {
    call("DeleteItem", {{"TableName", settings_.table},
                        {"Key", key(session_pk(user_id, session_id), kLockSk)},
                        {"ConditionExpression", "#turn = :turn"},
                        {"ExpressionAttributeNames", {{"#turn", "turn_id"}}},
                        {"ExpressionAttributeValues", {{":turn", S(turn_id)}}}});
  } catch (const shared::aws::AwsError&) {
    // Held by another turn now (or gone): not ours to release.
  }
}

std::vector<AbandonedTurn> DynamoSessionStore::abandoned_turns(const std::string& owner,
                                                               std::int64_t now) {
  // A scan, run once at start: locks are few and short-lived, and this avoids an index that
  // every lock write would pay for.
  json request = {{"TableName", settings_.table},
                  {"FilterExpression", "sk = :lock AND (#owner = :owner OR #lease < :now)"},
                  {"ExpressionAttributeNames", {{"#owner", "owner"}, {"#lease", "lease_until"}}},
                  {"ExpressionAttributeValues",
                   {{":lock", S(kLockSk)}, {":owner", S(owner)}, {":now", N(now)}}},
                  {"ConsistentRead", true}};
  std::vector<AbandonedTurn> turns;
  while (true) {
    const auto r = call("Scan", request);
    for (const auto& item : r.value("Items", json::array()))
      turns.push_back({get_s(item, "user_id"), get_s(item, "session_id"), get_s(item, "turn_id")});
    if (!r.contains("LastEvaluatedKey")) break;
    request["ExclusiveStartKey"] = r["LastEvaluatedKey"];
  }
  return turns;
}

std::string DynamoSessionStore::check_ready() {
  try {
    const auto r = call("DescribeTable", {{"TableName", settings_.table}});
    const auto status = r["Table"].value("TableStatus", "");
    return status == "ACTIVE" ? "" : "table " + settings_.table + " is " + status;
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace agent::store
