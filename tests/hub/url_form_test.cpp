// Specification of form and query parsing for publish bodies and subscribe queries.
#include "url_form.h"

#include <gtest/gtest.h>

namespace hub {
namespace {

TEST(UrlForm, ParsesRepeatedFieldsInOrderWithDecoding) {
  auto fields =
      parse_form("topic=%2Fa&topic=https%3A%2F%2Fx%2Fb&data=hello+world%21&private=on&empty=&flag");
  ASSERT_TRUE(fields);
  EXPECT_EQ(form_values(*fields, "topic"), (std::vector<std::string>{"/a", "https://x/b"}));
  EXPECT_EQ(form_value(*fields, "data"), "hello world!");
  EXPECT_EQ(form_value(*fields, "empty"), "");
  EXPECT_EQ(form_value(*fields, "flag"), "");
  EXPECT_EQ(form_value(*fields, "missing"), std::nullopt);
}

TEST(UrlForm, SkipsEmptyPairsAndKeepsEqualsInValues) {
  auto fields = parse_form("&&a=b=c&&");
  ASSERT_TRUE(fields);
  ASSERT_EQ(fields->size(), 1u);
  EXPECT_EQ(form_value(*fields, "a"), "b=c");
  EXPECT_TRUE(parse_form("")->empty());
}

TEST(UrlForm, BadEscapesAreErrorsNotCrashes) {
  EXPECT_EQ(parse_form("a=%"), std::nullopt);
  EXPECT_EQ(parse_form("a=%4"), std::nullopt);
  EXPECT_EQ(parse_form("a=%zz"), std::nullopt);
  EXPECT_EQ(parse_form("%G1=b"), std::nullopt);
  EXPECT_EQ(form_decode("%00"), std::string(1, '\0'));
}

TEST(UrlForm, QueryEscapeMatchesGoQueryEscape) {
  EXPECT_EQ(query_escape("/users/a b/sessions/1"), "%2Fusers%2Fa+b%2Fsessions%2F1");
  EXPECT_EQ(query_escape("urn:uuid:1-2"), "urn%3Auuid%3A1-2");
  EXPECT_EQ(query_escape("a~b_c.d"), "a~b_c.d");
}

}  // namespace
}  // namespace hub
