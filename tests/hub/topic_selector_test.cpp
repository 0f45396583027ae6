// Specification of topic selectors: exact topics, "*", and RFC 6570 URI templates.
#include <gtest/gtest.h>

#include "topic_selector_store.h"
#include "uri_template.h"

namespace hub {
namespace {

bool template_matches(const std::string& t, const std::string& uri) {
  auto parsed = UriTemplate::parse(t);
  EXPECT_TRUE(parsed.has_value()) << t;
  return parsed && parsed->matches(uri);
}

TEST(UriTemplate, SimpleVariableMatchesOneUnreservedSegment) {
  EXPECT_TRUE(template_matches("/users/{user}/sessions/{session}", "/users/alice/sessions/42"));
  EXPECT_TRUE(template_matches("https://example.com/books/{id}", "https://example.com/books/1"));
  EXPECT_TRUE(template_matches("/books/{id}", "/books/caf%C3%A9"));
  EXPECT_FALSE(
      template_matches("/users/{user}/sessions/{session}", "/users/alice/sessions/42/extra"));
  EXPECT_FALSE(template_matches("/users/{user}/sessions/{session}", "/users/al/ice/sessions/42"));
  EXPECT_FALSE(template_matches("/users/{user}/sessions/{session}", "/users/alice/other/42"));
  EXPECT_FALSE(template_matches("/books/{id}", "/books/bad%zz"));
  EXPECT_FALSE(template_matches("/books/{id}", "/authors/1"));
}

TEST(UriTemplate, ReservedExpansionCrossesSlashes) {
  EXPECT_TRUE(template_matches("/files{+path}", "/files/a/b/c.txt"));
  EXPECT_FALSE(template_matches("/files/{path}", "/files/a/b"));
}

TEST(UriTemplate, PathSegmentAndQueryOperators) {
  EXPECT_TRUE(template_matches("/books{/id}", "/books/7"));
  EXPECT_TRUE(template_matches("/books{/id}", "/books"));
  EXPECT_TRUE(template_matches("/search{?q,page}", "/search?q=mercure&page=2"));
  EXPECT_TRUE(template_matches("/a{#frag}", "/a#section-1"));
  EXPECT_TRUE(template_matches("/x{.ext}", "/x.json"));
  EXPECT_FALSE(template_matches("/search{?q}", "/search/q"));
}

TEST(UriTemplate, InvalidTemplatesAreRefused) {
  for (const char* t : {"/a/{", "/a/}", "/a/{}", "/a/{b{c}}", "/a/{=b}", "/a/{b:0}", "/a/{b c}"}) {
    EXPECT_FALSE(UriTemplate::parse(t).has_value()) << t;
  }
}

TEST(UriTemplate, HostileLongTopicsNeitherCrashNorMatch) {
  const std::string long_topic = "/books/" + std::string(1 << 20, 'a');
  EXPECT_FALSE(template_matches("/books/{id}", long_topic));
  const std::string many_vars = "{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}{n}{o}{p}";
  EXPECT_FALSE(template_matches(many_vars + "/", std::string(4000, 'x')));
}

TEST(TopicSelectorStore, ExactWildcardAndTemplateSelectors) {
  TopicSelectorStore store(100);
  EXPECT_TRUE(store.matches("/a", "/a"));
  EXPECT_FALSE(store.matches("/a", "/b"));
  EXPECT_TRUE(store.matches("/anything/at/all", "*"));
  EXPECT_TRUE(store.matches("/users/bob/sessions/1", "/users/{user}/sessions/{session}"));
  EXPECT_FALSE(store.matches("/users/bob", "/users/{user}/sessions/{session}"));
  // An invalid template still matches itself exactly.
  EXPECT_TRUE(store.matches("/a/{", "/a/{"));
  EXPECT_FALSE(store.matches("/a/x", "/a/{"));
}

TEST(TopicSelectorStore, CachesResultsWithinItsBound) {
  TopicSelectorStore store(16);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(store.matches("/books/" + std::to_string(i), "/books/{id}"));
    EXPECT_LE(store.cached_results(), 16u);
  }
  EXPECT_TRUE(store.matches("/books/99", "/books/{id}"));
}

TEST(TopicSelectorStore, AnyMatchesChecksEveryPair) {
  TopicSelectorStore store(100);
  EXPECT_TRUE(store.any_matches({"/x", "/users/u/sessions/s"}, {"/nope", "/users/u/sessions/{s}"}));
  EXPECT_FALSE(store.any_matches({"/x"}, {}));
}

TEST(TopicSelectorStore, BoundsTheBytesOfItsKeys) {
  TopicSelectorStore store(1000, 64 * 1024);
  const std::string selector = "/books/{id}";
  for (int i = 0; i < 200; ++i) {
    EXPECT_TRUE(store.matches("/books/" + std::string(1000, 'a') + std::to_string(i), selector));
  }
  EXPECT_LE(store.cached_bytes(), 64u * 1024);
  // A topic too long for a template to match costs neither a match nor a cache entry.
  const std::size_t before = store.cached_results();
  EXPECT_FALSE(store.matches("/books/" + std::string(UriTemplate::kMaxMatchLength, 'b'), selector));
  EXPECT_EQ(store.cached_results(), before);
  // A selector too large for the cache's bytes is still matched correctly, without caching.
  TopicSelectorStore tiny(1000, 16);
  EXPECT_TRUE(tiny.matches("/books/1", selector));
  EXPECT_FALSE(tiny.matches("/authors/1", selector));
  EXPECT_EQ(tiny.cached_bytes(), 0u);
}

}  // namespace
}  // namespace hub
