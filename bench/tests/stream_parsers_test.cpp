#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http_response_parser.h"
#include "sse_event_parser.h"
#include "subscriber_shard.h"

namespace bench {
namespace {

struct Collected {
  std::string body;
  HttpResponseParser::Status status = HttpResponseParser::Status::kNeedMore;
};

// Feeds `wire` one byte at a time, the hardest split for an incremental parser.
Collected feed_bytewise(HttpResponseParser& parser, const std::string& wire) {
  Collected out;
  for (char c : wire) {
    std::size_t consumed = 0;
    out.status = parser.feed(
        std::string_view(&c, 1), [&](std::string_view b) { out.body.append(b); }, consumed);
    if (out.status != HttpResponseParser::Status::kNeedMore) break;
  }
  return out;
}

}  // namespace

TEST(HttpResponseParser, ChunkedStreamBodyArrivesAcrossByteSplits) {
  HttpResponseParser parser;
  const auto out = feed_bytewise(
      parser,
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\ndata: \r\n3;ext=1\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(out.status, HttpResponseParser::Status::kComplete);
  EXPECT_EQ(parser.status_code(), 200);
  EXPECT_EQ(out.body, "data: abc");
}

TEST(HttpResponseParser, ContentLengthResponseCompletesAndLeavesTheNextOneUnread) {
  HttpResponseParser parser;
  const std::string wire = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n";
  std::size_t consumed = 0;
  std::string body;
  EXPECT_EQ(parser.feed(
                wire, [&](std::string_view b) { body.append(b); }, consumed),
            HttpResponseParser::Status::kComplete);
  EXPECT_EQ(body, "ok");
  EXPECT_EQ(wire.substr(consumed), "HTTP/1.1 200 OK\r\n");
  EXPECT_TRUE(parser.keep_alive());
}

TEST(HttpResponseParser, MalformedInputIsAnErrorNotACrash) {
  for (const std::string wire : {"SMTP ready\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                                 "HTTP/1.1 200 OK\r\nbad header\r\n\r\n"}) {
    HttpResponseParser parser;
    std::size_t consumed = 0;
    EXPECT_EQ(parser.feed(
                  wire, [](std::string_view) {}, consumed),
              HttpResponseParser::Status::kError)
        << wire;
  }
  HttpResponseParser parser;
  std::size_t consumed = 0;
  EXPECT_EQ(
      parser.feed(
          "HTTP/1.1 200 OK\r\nX: " + std::string(20000, 'a'), [](std::string_view) {}, consumed),
      HttpResponseParser::Status::kError);
}

TEST(SseEventParser, JoinsDataLinesKeepsIdAndIgnoresComments) {
  SseEventParser parser;
  std::vector<std::pair<std::string, std::string>> events;
  const std::string stream = ": heartbeat\r\nid: urn:1\r\ndata: a\r\ndata:b\r\n\r\ndata: c\n\n";
  for (char c : stream) {
    ASSERT_TRUE(parser.feed(std::string_view(&c, 1), [&](const SseEvent& e) {
      events.emplace_back(std::string(e.id), std::string(e.data));
    }));
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], (std::pair<std::string, std::string>{"urn:1", "a\nb"}));
  EXPECT_EQ(events[1], (std::pair<std::string, std::string>{"urn:1", "c"}));
  EXPECT_EQ(parser.comments(), 1u);
}

TEST(SseEventParser, AnEventThatNeverEndsIsRefusedPastTheBound) {
  SseEventParser parser;
  const std::string line = "data: " + std::string(64 * 1024, 'x') + "\n";
  bool ok = true;
  for (int i = 0; i < 40 && ok; ++i) ok = parser.feed(line, [](const SseEvent&) {});
  EXPECT_FALSE(ok);
}

TEST(UpdateStamp, ReadsSequenceAndSendTime) {
  int64_t seq = 0;
  int64_t ts = 0;
  EXPECT_TRUE(parse_update_stamp("seq=42 ts=123456789 xxxx", seq, ts));
  EXPECT_EQ(seq, 42);
  EXPECT_EQ(ts, 123456789);
  EXPECT_FALSE(parse_update_stamp("{\"type\":\"text.delta\"}", seq, ts));
}

}  // namespace bench
