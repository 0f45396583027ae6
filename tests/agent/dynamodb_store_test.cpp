// What the DynamoDB store writes beyond the shared contract, read back raw from a real
// dynalite: the single-table keys, the optional TTL attribute, the sparse lock index, paging
// through LastEvaluatedKey, and no items left behind by writes that race a delete.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store/dynamodb_session_store.h"
#include "store_under_test.h"

namespace agent::store {
namespace {

nlohmann::json raw_item(shared::aws::AwsJsonClient& client, const std::string& table,
                        const std::string& pk, const std::string& sk) {
  const nlohmann::json key = {{"pk", {{"S", pk}}}, {"sk", {{"S", sk}}}};
  const auto r = client.call("DynamoDB_20120810.GetItem", {{"TableName", table}, {"Key", key}});
  return r.value("Item", nlohmann::json::object());
}

TEST(DynamoSessionStore, ItemsUseTheSingleTableKeysAndCarryExpiresAtWithATtl) {
  auto client = testing::dynalite_client();
  DynamoSettingsForStore settings;
  settings.table = "agent-ttl-" + random_hex(4);
  settings.create_table = true;
  settings.ttl = std::chrono::hours(1);
  DynamoSessionStore store(settings, client);
  const auto session = store.create_session("ttl-user", "expiring");
  StoredMessage message;
  message.role = "user";
  message.turn_id = "t_1";
  message.content = nlohmann::json::array({{{"type", "text"}, {"text", "hello"}}});
  ASSERT_TRUE(store.append_message("ttl-user", session.id, message));
  ASSERT_TRUE(
      store.acquire_turn_lock("ttl-user", session.id, "t_1", "me", now_ms() + 60'000).acquired);

  const auto expected = now_ms() / 1000 + 3600;
  const auto session_item = raw_item(*client, settings.table, "U#ttl-user", "S#" + session.id);
  const auto message_item =
      raw_item(*client, settings.table, "U#ttl-user#S#" + session.id, "M#000000000001#0000");
  const auto lock_item = raw_item(*client, settings.table, "U#ttl-user#S#" + session.id, "LOCK");
  for (const auto* item : {&session_item, &message_item, &lock_item}) {
    ASSERT_TRUE(item->contains("expires_at")) << item->dump();
    const auto expires = std::stoll((*item)["expires_at"]["N"].get<std::string>());
    EXPECT_NEAR(static_cast<double>(expires), static_cast<double>(expected), 60.0);
  }
  EXPECT_EQ(session_item["title"]["S"], "expiring");
  EXPECT_EQ(session_item["next_seq"]["N"], "1");
  EXPECT_EQ(message_item["role"]["S"], "user");
  EXPECT_EQ(lock_item["turn_id"]["S"], "t_1");
  EXPECT_EQ(lock_item["lock_bucket"]["S"], "LOCK");  // the lock index's key: only locks have it
  EXPECT_FALSE(message_item.contains("lock_bucket"));
  EXPECT_FALSE(session_item.contains("lock_bucket"));
}

TEST(DynamoSessionStore, WithoutATtlItemsNeverExpire) {
  auto client = testing::dynalite_client();
  DynamoSettingsForStore settings;
  settings.table = "agent-nottl-" + random_hex(4);
  settings.create_table = true;
  DynamoSessionStore store(settings, client);
  const auto session = store.create_session("plain-user", "forever");
  const auto item = raw_item(*client, settings.table, "U#plain-user", "S#" + session.id);
  EXPECT_EQ(item["title"]["S"], "forever");
  EXPECT_FALSE(item.contains("expires_at"));
}

TEST(DynamoSessionStore, AMissingTableIsAStoreErrorWhenNotAskedToCreateIt) {
  DynamoSettingsForStore settings;
  settings.table = "agent-missing-" + random_hex(4);
  DynamoSessionStore store(settings, testing::dynalite_client());
  EXPECT_THROW(store.create_session("u", "t"), StoreError);
  EXPECT_NE(store.check_ready(), "");
}

// Every item of a session's partition (messages, parts, lock), read raw.
std::vector<nlohmann::json> partition(shared::aws::AwsJsonClient& client, const std::string& table,
                                      const std::string& pk) {
  std::vector<nlohmann::json> items;
  nlohmann::json request = {{"TableName", table},
                            {"KeyConditionExpression", "pk = :pk"},
                            {"ExpressionAttributeValues", {{":pk", {{"S", pk}}}}},
                            {"ConsistentRead", true}};
  while (true) {
    const auto r = client.call("DynamoDB_20120810.Query", request);
    for (const auto& item : r.value("Items", nlohmann::json::array())) items.push_back(item);
    if (!r.contains("LastEvaluatedKey")) break;
    request["ExclusiveStartKey"] = r["LastEvaluatedKey"];
  }
  return items;
}

StoredMessage text_of(const std::string& role, const std::string& text) {
  StoredMessage m;
  m.role = role;
  m.turn_id = "t_1";
  m.content = nlohmann::json::array({{{"type", "text"}, {"text", text}}});
  return m;
}

TEST(DynamoSessionStore, CreatesTheTableWithTheLockIndexAndIsReadyOnlyWithIt) {
  auto client = testing::dynalite_client();
  DynamoSettingsForStore settings;
  settings.table = "agent-index-" + random_hex(4);
  settings.create_table = true;
  DynamoSessionStore store(settings, client);
  const auto described =
      client->call("DynamoDB_20120810.DescribeTable", {{"TableName", settings.table}})["Table"];
  ASSERT_EQ(described["GlobalSecondaryIndexes"].size(), 1u);
  const auto& index = described["GlobalSecondaryIndexes"][0];
  EXPECT_EQ(index["IndexName"], "locks_by_lease");
  EXPECT_EQ(index["KeySchema"][0]["AttributeName"], "lock_bucket");
  EXPECT_EQ(index["KeySchema"][1]["AttributeName"], "lease_until");
  EXPECT_EQ(store.check_ready(), "");

  // A table made without it (by an older agent, or by hand) is not ready: crashed turns would
  // never be found.
  const std::string bare = "agent-noindex-" + random_hex(4);
  client->call("DynamoDB_20120810.CreateTable",
               {{"TableName", bare},
                {"AttributeDefinitions",
                 {{{"AttributeName", "pk"}, {"AttributeType", "S"}},
                  {{"AttributeName", "sk"}, {"AttributeType", "S"}}}},
                {"KeySchema",
                 {{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                  {{"AttributeName", "sk"}, {"KeyType", "RANGE"}}}},
                {"BillingMode", "PAY_PER_REQUEST"}});
  DynamoSettingsForStore bare_settings;
  bare_settings.table = bare;
  DynamoSessionStore bare_store(bare_settings, client);
  std::string problem;
  for (int i = 0; i < 50; ++i) {
    problem = bare_store.check_ready();
    if (problem.find("is CREATING") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(problem, "table " + bare +
                         " has no index locks_by_lease (create it as infra/modules/dynamodb does)");
}

TEST(DynamoSessionStore, MessagesPastOneMegabyteArePagedThroughLastEvaluatedKey) {
  auto client = testing::dynalite_client();
  DynamoSettingsForStore settings;  // default part size: one item per message here
  settings.table = "agent-paging-" + random_hex(4);
  settings.create_table = true;
  DynamoSessionStore store(settings, client);
  const auto session = store.create_session("pager", "big");
  std::vector<std::string> texts;
  for (int i = 0; i < 6; ++i) {
    texts.push_back(std::string(250 * 1024, static_cast<char>('a' + i)));
    ASSERT_TRUE(store.append_message("pager", session.id, text_of("user", texts.back())));
  }
  // 1.5 MB in one partition: one Query cannot return it all.
  const auto first =
      client->call("DynamoDB_20120810.Query",
                   {{"TableName", settings.table},
                    {"KeyConditionExpression", "pk = :pk"},
                    {"ExpressionAttributeValues", {{":pk", {{"S", "U#pager#S#" + session.id}}}}}});
  ASSERT_TRUE(first.contains("LastEvaluatedKey")) << "dynalite returned everything at once";
  ASSERT_LT(first["Items"].size(), 6u);

  const auto page = store.list_messages("pager", session.id, 10, "");
  ASSERT_EQ(page.items.size(), 6u);
  EXPECT_FALSE(page.next_cursor);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(page.items[i].content[0]["text"], texts[i]) << i;
  const auto recent = store.recent_messages("pager", session.id, 5, 0);
  ASSERT_EQ(recent.size(), 5u);
  EXPECT_EQ(recent.front().seq, 2);
  EXPECT_EQ(recent.back().content[0]["text"], texts[5]);
  // A page that ends before the data does gives a cursor that continues it.
  const auto two = store.list_messages("pager", session.id, 2, "");
  ASSERT_EQ(two.items.size(), 2u);
  ASSERT_TRUE(two.next_cursor);
  EXPECT_EQ(store.list_messages("pager", session.id, 10, *two.next_cursor).items.front().seq, 3);
}

TEST(DynamoSessionStore, WritesRacingADeleteOfTheirSessionLeaveNoItemsBehind) {
  auto client = testing::dynalite_client();
  DynamoSettingsForStore settings;
  settings.table = "agent-race-" + random_hex(4);
  settings.create_table = true;
  settings.part_bytes = 8 * 1024;  // every message below is many items, written one by one
  DynamoSessionStore store(settings, client);
  std::string big;
  for (int i = 0; big.size() < 120 * 1024; ++i)
    big += "part of a long answer " + std::to_string(i) + "\n";
  for (int round = 0; round < 4; ++round) {
    const auto session = store.create_session("racer", "doomed");
    auto kept = store.append_message("racer", session.id, text_of("assistant", "short"));
    ASSERT_TRUE(kept);
    std::atomic<bool> go{false};
    // One writer replaces a long message, another appends long ones, while the session goes.
    std::thread updater([&] {
      while (!go.load()) std::this_thread::yield();
      auto m = *kept;
      for (int i = 0; i < 50; ++i) {
        m.content = nlohmann::json::array({{{"type", "text"}, {"text", big + std::to_string(i)}}});
        if (!store.update_message("racer", session.id, m)) break;
      }
    });
    std::thread appender([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 50; ++i)
        if (!store.append_message("racer", session.id, text_of("user", big))) break;
    });
    go.store(true);
    std::this_thread::sleep_for(std::chrono::milliseconds(40 + 30 * round));
    EXPECT_TRUE(store.delete_session("racer", session.id));
    updater.join();
    appender.join();
    const auto left = partition(*client, settings.table, "U#racer#S#" + session.id);
    EXPECT_TRUE(left.empty()) << "round " << round << ": " << left.size() << " items left, first "
                              << left.front()["sk"].dump();
  }
}

}  // namespace
}  // namespace agent::store
