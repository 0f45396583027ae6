// Specification of the Redis scale-out's parsing: URLs, stream ids and the wire form of updates.
#include "redis_bridge.h"

#include <gtest/gtest.h>

namespace hub {
namespace {

TEST(RedisBridgeUrl, ParsesHostPortDatabaseAndPassword) {
  auto a = parse_redis_url("redis://cache.internal:6380/2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "cache.internal");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->database, 2);
  auto b = parse_redis_url("redis://:s3cret@127.0.0.1");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "127.0.0.1");
  EXPECT_EQ(b->port, 6379);
  EXPECT_EQ(b->password, "s3cret");
  for (const char* bad : {"http://x:1", "redis://", "redis://h:0", "redis://h:99999", "redis://h:x",
                          "redis://h/db"}) {
    EXPECT_FALSE(parse_redis_url(bad)) << bad;
  }
}

TEST(RedisBridgeStreamId, ComparesByTimeThenSequence) {
  EXPECT_EQ(parse_stream_id("1700000000000-3"),
            std::make_pair(std::uint64_t{1700000000000}, std::uint64_t{3}));
  EXPECT_LT(*parse_stream_id("9-10"), *parse_stream_id("10-0"));
  EXPECT_LT(*parse_stream_id("10-2"), *parse_stream_id("10-10"));
  EXPECT_FALSE(parse_stream_id("10"));
  EXPECT_FALSE(parse_stream_id("a-b"));
  EXPECT_FALSE(parse_stream_id("1-2-3"));
}

TEST(RedisBridgeWire, UpdatesRoundTripAndBadInputIsRefused) {
  Update u;
  u.id = "urn:uuid:x";
  u.topics = {"/a", "/b"};
  u.data = "line1\nline2";
  u.type = "t";
  u.retry = 5;
  u.is_private = true;
  auto back = update_from_wire(update_to_wire(u));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, u.id);
  EXPECT_EQ(back->topics, u.topics);
  EXPECT_EQ(back->data, u.data);
  EXPECT_EQ(back->type, u.type);
  EXPECT_EQ(back->retry, 5u);
  EXPECT_TRUE(back->is_private);
  for (const char* bad :
       {"", "[]", "{}", R"({"id":"x","topics":[]})", R"({"id":1,"topics":["/a"]})", "{bad"}) {
    EXPECT_FALSE(update_from_wire(bad)) << bad;
  }
}

TEST(RedisBridgeWire, BytesThatAreNotUtf8SurviveTheTrip) {
  Update u;
  u.id = "id\xFF";
  u.topics = {"/a"};
  u.type = "t\xFE";
  u.data = std::string("\xFF\0\xC3", 3);
  const std::string wire = update_to_wire(u);
  EXPECT_NE(wire.find("\"data_b64\""), std::string::npos);
  auto back = update_from_wire(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, u.id);
  EXPECT_EQ(back->type, u.type);
  EXPECT_EQ(back->data, u.data);
  // UTF-8 stays readable JSON, as before.
  Update plain;
  plain.id = "x";
  plain.topics = {"/a"};
  plain.data = "caf\xC3\xA9";
  EXPECT_NE(update_to_wire(plain).find("\"data\":\"caf\xC3\xA9\""), std::string::npos);
  EXPECT_FALSE(update_from_wire(R"({"id_b64":"!!","topics":["/a"]})"));
}

}  // namespace
}  // namespace hub
