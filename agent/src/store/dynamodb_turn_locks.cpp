// Turn locks in the DynamoDB table: one item per session (sk LOCK) written with conditions, so
// that one turn holds it at a time; its lease is renewed by the running turn, and the sparse
// locks_by_lease index lets recovery find the expired ones without reading the table.
#include <set>

#include "identifiers.h"
#include "store/dynamodb_items.h"
#include "store/dynamodb_session_store.h"

namespace agent::store {

using nlohmann::json;
using namespace dynamo;

namespace {

AbandonedTurn lock_from(const json& item) {
  return {get_s(item, "user_id"), get_s(item, "session_id"), get_s(item, "turn_id"),
          get_s(item, "owner"), get_n(item, "lease_until")};
}

}  // namespace

TurnLockGrant DynamoSessionStore::acquire_turn_lock(const std::string& user_id,
                                                    const std::string& session_id,
                                                    const std::string& turn_id,
                                                    const std::string& owner,
                                                    std::int64_t lease_until_ms) {
  if (!get_session(user_id, session_id)) return {};
  json item = key(session_pk(user_id, session_id), kLockSk);
  item["kind"] = S("lock");
  item["user_id"] = S(user_id);
  item["session_id"] = S(session_id);
  item["turn_id"] = S(turn_id);
  item["owner"] = S(owner);
  item["lease_until"] = N(lease_until_ms);
  item[kLockIndexHash] = S(kLockBucket);
  add_ttl(item);
  try {
    const auto r =
        call("PutItem", {{"TableName", settings_.table},
                         {"Item", item},
                         {"ConditionExpression", "attribute_not_exists(pk) OR #lease < :now"},
                         {"ExpressionAttributeNames", {{"#lease", "lease_until"}}},
                         {"ExpressionAttributeValues", {{":now", N(now_ms())}}},
                         {"ReturnValues", "ALL_OLD"}});
    TurnLockGrant grant{true, ""};
    // An old item under the key is a lock whose lease had run out.
    if (r.contains("Attributes")) grant.replaced_turn_id = get_s(r["Attributes"], "turn_id");
    return grant;
  } catch (const shared::aws::AwsError&) {  // held by a live turn
    return {};
  }
}

bool DynamoSessionStore::renew_turn_lock(const std::string& user_id, const std::string& session_id,
                                         const std::string& turn_id, std::int64_t lease_until_ms) {
  try {
    call("UpdateItem",
         {{"TableName", settings_.table},
          {"Key", key(session_pk(user_id, session_id), kLockSk)},
          {"UpdateExpression", "SET #lease = :lease"},
          {"ConditionExpression", "#turn = :turn"},
          {"ExpressionAttributeNames", {{"#lease", "lease_until"}, {"#turn", "turn_id"}}},
          {"ExpressionAttributeValues", {{":lease", N(lease_until_ms)}, {":turn", S(turn_id)}}}});
    return true;
  } catch (const shared::aws::AwsError&) {  // gone, or another turn's now
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
  std::vector<AbandonedTurn> turns;
  std::set<std::string> seen;  // session pks, when both queries find one lock
  auto query_all = [&](json request) {
    while (true) {
      const auto r = call("Query", request);
      for (const auto& item : r.value("Items", json::array()))
        if (seen.insert(get_s(item, "pk")).second) turns.push_back(lock_from(item));
      if (!r.contains("LastEvaluatedKey")) break;
      request["ExclusiveStartKey"] = r["LastEvaluatedKey"];
    }
  };
  const json names = {{"#bucket", kLockIndexHash}, {"#lease", kLockIndexRange}};
  // The expired locks are a key range of the index: the query reads only them.
  query_all({{"TableName", settings_.table},
             {"IndexName", kLockIndex},
             {"KeyConditionExpression", "#bucket = :bucket AND #lease < :now"},
             {"ExpressionAttributeNames", names},
             {"ExpressionAttributeValues", {{":bucket", S(kLockBucket)}, {":now", N(now)}}}});
  if (!owner.empty()) {
    // At start only: this process's previous life's locks, among the live ones (one per running
    // turn of the fleet, a small set).
    query_all({{"TableName", settings_.table},
               {"IndexName", kLockIndex},
               {"KeyConditionExpression", "#bucket = :bucket"},
               {"FilterExpression", "#owner = :owner"},
               {"ExpressionAttributeNames", {{"#bucket", kLockIndexHash}, {"#owner", "owner"}}},
               {"ExpressionAttributeValues", {{":bucket", S(kLockBucket)}, {":owner", S(owner)}}}});
  }
  return turns;
}

bool DynamoSessionStore::claim_turn_lock(const AbandonedTurn& seen, const std::string& claimer,
                                         std::int64_t lease_until_ms) {
  try {
    call("UpdateItem",
         {{"TableName", settings_.table},
          {"Key", key(session_pk(seen.user_id, seen.session_id), kLockSk)},
          {"UpdateExpression", "SET #owner = :claimer, #lease = :lease"},
          {"ConditionExpression", "#turn = :turn AND #owner = :owner AND #lease = :seen_lease"},
          {"ExpressionAttributeNames",
           {{"#owner", "owner"}, {"#lease", "lease_until"}, {"#turn", "turn_id"}}},
          {"ExpressionAttributeValues",
           {{":claimer", S(claimer)},
            {":lease", N(lease_until_ms)},
            {":turn", S(seen.turn_id)},
            {":owner", S(seen.owner)},
            {":seen_lease", N(seen.lease_until_ms)}}}});
    return true;
  } catch (const shared::aws::AwsError&) {  // renewed, re-acquired, claimed by another or gone
    return false;
  }
}

}  // namespace agent::store
