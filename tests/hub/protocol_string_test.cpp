// Specification of the protocol's string rule for topics and selectors: valid UTF-8 without C0,
// DEL or C1 control characters.
#include "protocol_string.h"

#include <gtest/gtest.h>

namespace hub {
namespace {

TEST(ProtocolString, AcceptsAsciiAndWellFormedUtf8) {
  for (const char* ok :
       {"", "/books/1", "https://example.com/{id}", "/caf\xC3\xA9", "/\xE6\x97\xA5\xE6\x9C\xAC",
        "/\xF0\x9F\x98\x80", "/nbsp\xC2\xA0", "/max\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(is_valid_utf8(ok)) << ok;
    EXPECT_TRUE(is_protocol_string(ok)) << ok;
  }
}

TEST(ProtocolString, RefusesMalformedUtf8) {
  for (const char* bad : {"\xFF", "/\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                          "\xF4\x90\x80\x80", "\x80", "\xC3\x28", "\xF8\x88\x80\x80\x80"}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << testing::PrintToString(bad);
    EXPECT_FALSE(is_protocol_string(bad)) << testing::PrintToString(bad);
  }
}

TEST(ProtocolString, RefusesC0DelAndC1ControlsButNotTheirNeighbours) {
  EXPECT_FALSE(is_protocol_string(std::string("/a\0b", 4)));
  for (const char* bad :
       {"/a\x01", "/a\tb", "/a\nb", "/a\x1F", "/a\x7F", "/a\xC2\x80", "/a\xC2\x85", "/a\xC2\x9F"}) {
    EXPECT_FALSE(is_protocol_string(bad)) << testing::PrintToString(bad);
    EXPECT_TRUE(is_valid_utf8(bad));
  }
  EXPECT_TRUE(is_protocol_string("/a b~"));
  EXPECT_TRUE(is_protocol_string("/a\xC2\xA0"));  // U+00A0, right after C1
}

}  // namespace
}  // namespace hub
