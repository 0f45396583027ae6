// Specification of publish-form validation and event encoding.
#include "update.h"

#include <gtest/gtest.h>

namespace hub {
namespace {

// A publish form read and its update validated, as the hub does (with the publisher's scope
// checked in between).
PublishForm from(const std::string& body, std::size_t max_topics = 10) {
  PublishForm r = read_publish_form(*parse_form(body), max_topics);
  if (r.update) {
    if (auto error = validate_update(*r.update)) return PublishForm{std::nullopt, error};
  }
  return r;
}

TEST(UpdateEncoding, WritesEventRetryIdAndOneDataLinePerLine) {
  Update u;
  u.id = "id-1";
  u.type = "message";
  u.retry = 1500;
  u.data = "line1\nline2\r\nline3\rline4";
  EXPECT_EQ(encode_event(u),
            "event: message\nretry: 1500\nid: id-1\ndata: line1\ndata: line2\ndata: line3\ndata: "
            "line4\n\n");
  Update plain;
  plain.id = "x";
  EXPECT_EQ(encode_event(plain), "id: x\ndata: \n\n");
}

TEST(UpdateEncoding, FrameIsOneHttpChunk) {
  EXPECT_EQ(http_chunk("hello"), "5\r\nhello\r\n");
  EXPECT_EQ(http_chunk(std::string(26, 'a')), "1a\r\n" + std::string(26, 'a') + "\r\n");
  Update u;
  u.id = "1";
  u.data = "d";
  encode_frame(u);
  EXPECT_EQ(*u.frame, http_chunk("id: 1\ndata: d\n\n"));
}

TEST(UpdateEncoding, GeneratedIdsAreUrnUuids) {
  const std::string a = new_urn_uuid();
  EXPECT_EQ(a.size(), 45u);
  EXPECT_EQ(a.rfind("urn:uuid:", 0), 0u);
  EXPECT_EQ(a[23], '4');
  EXPECT_NE(a, new_urn_uuid());
}

TEST(PublishFormValidation, AcceptsAFullForm) {
  auto r = from("topic=/a&topic=/b&data=x&id=my-id&type=t&retry=10&private=on");
  ASSERT_TRUE(r.update) << r.error->message;
  EXPECT_EQ(r.update->topics, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(r.update->id, "my-id");
  EXPECT_EQ(r.update->type, "t");
  EXPECT_EQ(r.update->retry, 10u);
  EXPECT_TRUE(r.update->is_private);
}

TEST(PublishFormValidation, MissingIdBecomesUrnUuidAndPrivateIsOffByDefault) {
  auto r = from("topic=/a&data=x");
  ASSERT_TRUE(r.update);
  EXPECT_EQ(r.update->id.rfind("urn:uuid:", 0), 0u);
  EXPECT_FALSE(r.update->is_private);
}

TEST(PublishFormValidation, RefusesWhatTheReferenceHubRefuses) {
  struct Case {
    const char* body;
    int status;
  };
  for (const Case& c :
       {Case{"data=x", 400}, Case{"topic=/a&retry=abc", 400}, Case{"topic=/a&retry=-1", 400},
        Case{"topic=/a&retry=1x", 400}, Case{"topic=/a&id=a%0Ab", 400},
        Case{"topic=/a&id=a%0Db", 400}, Case{"topic=/a&id=a%00b", 400},
        Case{"topic=/a&type=a%0Ab", 400}, Case{"topic=/a%0Ab", 400}, Case{"topic=/a%7Fb", 400},
        Case{"topic=/a%C2%85b", 400}, Case{"topic=/%FF", 400},
        Case{"topic=/.well-known/mercure/subscriptions/x/y", 403},
        Case{"topic=https://h/.well-known/mercure", 403}}) {
    auto r = from(c.body);
    ASSERT_TRUE(r.error) << c.body;
    EXPECT_EQ(r.error->status, c.status) << c.body;
  }
  std::string many;
  for (int i = 0; i < 11; ++i) many += "topic=/t" + std::to_string(i) + "&";
  auto r = from(many, 10);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status, 400);
}

TEST(PublishFormValidation, ReadingTheFormLeavesTheUpdateChecksForAfterTheScope) {
  // The reference hub answers 401 for a topic outside the publisher's scope before it answers
  // 403 or 400 for the update itself, so reading the form does not look at those.
  auto r = read_publish_form(*parse_form("topic=/.well-known/mercure/x&id=a%0Ab"), 10);
  ASSERT_TRUE(r.update);
  ASSERT_TRUE(validate_update(*r.update));
  EXPECT_EQ(validate_update(*r.update)->status, 403);
  EXPECT_FALSE(read_publish_form(*parse_form("data=x"), 10).update);
  EXPECT_FALSE(read_publish_form(*parse_form("topic=/a&retry=x"), 10).update);
}

TEST(PublishFormValidation, IdTypeAndDataMayHoldAnyOtherByte) {
  auto r = from("topic=/a&id=%FF%C2%85&type=%FE&data=%00%FF");
  ASSERT_TRUE(r.update) << r.error->message;
  EXPECT_EQ(r.update->id, "\xFF\xC2\x85");
  EXPECT_EQ(r.update->data, std::string("\0\xFF", 2));
}

}  // namespace
}  // namespace hub
