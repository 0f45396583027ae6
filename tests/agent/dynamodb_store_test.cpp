// What the DynamoDB store writes beyond the shared contract: the single-table keys and the
// optional TTL attribute, read back raw from a real dynalite.
#include <gtest/gtest.h>

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
  ASSERT_TRUE(store.acquire_turn_lock("ttl-user", session.id, "t_1", "me", now_ms() + 60'000));

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

}  // namespace
}  // namespace agent::store
