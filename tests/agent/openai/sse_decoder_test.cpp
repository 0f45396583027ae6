// SseDecoder: the server-sent events rules the OpenAI-compatible stream relies on, whatever the
// line ends and however the bytes are cut.
#include "model/sse_decoder.h"

#include <gtest/gtest.h>

using agent::model::SseDecoder;
using agent::model::SseEvent;

namespace {

std::vector<SseEvent> decode_in_pieces(const std::string& bytes, std::size_t piece) {
  SseDecoder decoder(1024 * 1024);
  std::vector<SseEvent> events;
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    auto r = decoder.feed(std::string_view(bytes).substr(i, piece));
    EXPECT_FALSE(r.error);
    events.insert(events.end(), r.events.begin(), r.events.end());
  }
  auto rest = decoder.finish();
  events.insert(events.end(), rest.begin(), rest.end());
  return events;
}

}  // namespace

TEST(SseDecoder, SplitsDataEventsAndIgnoresComments) {
  const std::string body = ": keep-alive\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n";
  auto events = decode_in_pieces(body, body.size());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_EQ(events[0].event, "");
  EXPECT_EQ(events[1].data, "[DONE]");
}

TEST(SseDecoder, EveryCutOfTheBytesGivesTheSameEvents) {
  const std::string body = "event: message\r\ndata: one\r\ndata: two\r\n\r\ndata:x\r\rdata: y\n\n";
  const auto whole = decode_in_pieces(body, body.size());
  ASSERT_EQ(whole.size(), 3u);
  EXPECT_EQ(whole[0].event, "message");
  EXPECT_EQ(whole[0].data, "one\ntwo");  // data lines joined with LF
  EXPECT_EQ(whole[1].data, "x");         // no space after the colon, CR line ends
  EXPECT_EQ(whole[2].data, "y");
  for (std::size_t piece = 1; piece < body.size(); ++piece) {
    const auto cut = decode_in_pieces(body, piece);
    ASSERT_EQ(cut.size(), whole.size()) << piece;
    for (std::size_t i = 0; i < cut.size(); ++i) {
      EXPECT_EQ(cut[i].data, whole[i].data) << piece;
      EXPECT_EQ(cut[i].event, whole[i].event) << piece;
    }
  }
}

TEST(SseDecoder, EventNameResetsAfterEachEvent) {
  auto events = decode_in_pieces("event: error\ndata: a\n\ndata: b\n\n", 3);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "error");
  EXPECT_EQ(events[1].event, "");
}

TEST(SseDecoder, LlamaCppErrorFieldBecomesAnErrorEvent) {
  auto events = decode_in_pieces("data: {\"x\":1}\n\nerror: {\"message\":\"bad\"}\n\n", 5);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event, "error");
  EXPECT_EQ(events[1].data, "{\"message\":\"bad\"}");
}

TEST(SseDecoder, DataWithoutTheFinalBlankLineIsGivenAtTheEndButACutLineIsNot) {
  auto complete_line = decode_in_pieces("data: last\n", 4);
  ASSERT_EQ(complete_line.size(), 1u);
  EXPECT_EQ(complete_line[0].data, "last");
  EXPECT_TRUE(decode_in_pieces("data: {\"cut", 4).empty());
}

TEST(SseDecoder, AnEventPastTheBoundFailsAndStaysFailed) {
  SseDecoder decoder(64);
  auto r = decoder.feed("data: " + std::string(100, 'x'));
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("64 bytes"), std::string::npos);
  EXPECT_TRUE(decoder.feed("\n\ndata: ok\n\n").error);
  // Many small data lines count together.
  SseDecoder lines(64);
  std::optional<std::string> error;
  for (int i = 0; i < 20 && !error; ++i) error = lines.feed("data: 0123456789\n").error;
  EXPECT_TRUE(error);
}
