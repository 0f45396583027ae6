// Specification of how the hub finds and checks a request's JWT.
#include "authorization.h"

#include <gtest/gtest.h>

#include <thread>

namespace hub {
namespace {

using shared::jwt::Algorithm;

const shared::jwt::Key kKey{Algorithm::kHS256, "hub-secret", ""};

std::string token(const nlohmann::json& claims) { return shared::jwt::sign(claims, kKey); }

const nlohmann::json kPublisher = {{"mercure", {{"publish", {"*"}}}}};

Authorizer authorizer() {
  return Authorizer({kKey}, "mercureAuthorization", {"https://app.example"},
                    std::chrono::seconds(0));
}

TEST(Authorization, BearerHeaderComesFirst) {
  AuthorizationInput in;
  in.authorization_headers = {"Bearer " + token(kPublisher)};
  in.query_tokens = {"garbage"};
  auto r = authorizer().authorize(in);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(r.claims);
  EXPECT_EQ(r.claims->publish, (std::vector<std::string>{"*"}));
  EXPECT_EQ(r.claims->subscribe, std::nullopt);
}

TEST(Authorization, NonBearerOrRepeatedHeadersAreRefused) {
  AuthorizationInput in;
  in.authorization_headers = {"Basic abc"};
  EXPECT_FALSE(authorizer().authorize(in).ok());
  in.authorization_headers = {"Bearer " + token(kPublisher), "Bearer " + token(kPublisher)};
  EXPECT_FALSE(authorizer().authorize(in).ok());
}

TEST(Authorization, TheQueryParameterGivenTwiceIsRefusedEvenWhenBothAreValid) {
  AuthorizationInput in;
  in.query_tokens = {token(kPublisher), token(kPublisher)};
  EXPECT_FALSE(authorizer().authorize(in).ok());
}

TEST(Authorization, QueryParameterThenCookie) {
  AuthorizationInput in;
  in.query_tokens = {token({{"mercure", {{"subscribe", {"/a"}}}}})};
  auto r = authorizer().authorize(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.claims->subscribe, (std::vector<std::string>{"/a"}));

  AuthorizationInput cookie;
  cookie.cookie_header =
      "other=1; mercureAuthorization=" + token({{"mercure", {{"subscribe", {"/c"}}}}}) + "; x=y";
  r = authorizer().authorize(cookie);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.claims->subscribe, (std::vector<std::string>{"/c"}));
}

TEST(Authorization, ARememberedTokenIsStillRefusedOnceItExpires) {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()) +
                   std::chrono::seconds(1);
  AuthorizationInput in;
  in.authorization_headers = {"Bearer " +
                              token({{"exp", exp.count()}, {"mercure", {{"publish", {"*"}}}}})};
  const Authorizer hub = authorizer();
  const auto first = hub.authorize(in);
  ASSERT_TRUE(first.ok()) << first.error;
  const auto again = hub.authorize(in);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.claims, first.claims) << "the second use is answered from memory";
  std::this_thread::sleep_for(std::chrono::seconds(exp.count()) -
                              std::chrono::system_clock::now().time_since_epoch() +
                              std::chrono::milliseconds(50));
  const auto late = hub.authorize(in);
  EXPECT_FALSE(late.ok());
  EXPECT_FALSE(late.claims);
}

TEST(Authorization, ATamperedCopyOfARememberedTokenIsRefused) {
  const Authorizer hub = authorizer();
  const std::string good = token(kPublisher);
  AuthorizationInput in;
  in.authorization_headers = {"Bearer " + good};
  ASSERT_TRUE(hub.authorize(in).ok());
  std::string bad = good;
  bad.back() = bad.back() == 'A' ? 'B' : 'A';
  in.authorization_headers = {"Bearer " + bad};
  EXPECT_FALSE(hub.authorize(in).ok());
  // A failure is not remembered either: asking again fails again.
  EXPECT_FALSE(hub.authorize(in).ok());
}

TEST(Authorization, MemoryOfTokensIsBounded) {
  const Authorizer hub = authorizer();
  AuthorizationInput in;
  for (std::size_t i = 0; i < Authorizer::kCacheCapacity + 10; ++i) {
    in.authorization_headers = {"Bearer " + token({{"n", i}, {"mercure", {{"publish", {"*"}}}}})};
    ASSERT_TRUE(hub.authorize(in).ok());
  }
  EXPECT_EQ(hub.remembered_tokens(), Authorizer::kCacheCapacity);
}

TEST(Authorization, NoTokenIsAnonymousNotAnError) {
  auto r = authorizer().authorize({});
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.claims);
}

TEST(Authorization, CookiePostNeedsAnAllowedOrigin) {
  AuthorizationInput in;
  in.is_post = true;
  in.cookie_header = "mercureAuthorization=" + token(kPublisher);
  EXPECT_FALSE(authorizer().authorize(in).ok());  // no Origin, no Referer
  in.origin = "https://evil.example";
  EXPECT_FALSE(authorizer().authorize(in).ok());
  in.origin = "https://app.example";
  EXPECT_TRUE(authorizer().authorize(in).ok());
  in.origin.clear();
  in.referer = "https://app.example/page?x=1";
  EXPECT_TRUE(authorizer().authorize(in).ok());
}

TEST(Authorization, BadTokensAndKeylessHubsAreRefused) {
  AuthorizationInput in;
  in.query_tokens = {shared::jwt::sign(kPublisher, {Algorithm::kHS256, "other", ""})};
  EXPECT_FALSE(authorizer().authorize(in).ok());
  in.query_tokens = {token({{"mercure", {{"publish", "*"}}}})};  // not an array
  EXPECT_FALSE(authorizer().authorize(in).ok());
  in.query_tokens = {token({{"exp", 1000}, {"mercure", {{"publish", {"*"}}}}})};
  EXPECT_FALSE(authorizer().authorize(in).ok());
  Authorizer keyless({}, "mercureAuthorization", {}, std::chrono::seconds(0));
  in.query_tokens = {token(kPublisher)};
  EXPECT_FALSE(keyless.authorize(in).ok());
}

TEST(Authorization, ClaimsCarryPayloadAndExpiry) {
  const auto claims =
      read_mercure_claims({{"exp", 2'000'000'000}, {"mercure", {{"payload", {{"user", "u1"}}}}}});
  EXPECT_EQ(claims.payload, (nlohmann::json{{"user", "u1"}}));
  ASSERT_TRUE(claims.expires_at);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(claims.expires_at->time_since_epoch())
                .count(),
            2'000'000'000);
}

TEST(Authorization, CookieAndOriginHelpers) {
  EXPECT_EQ(cookie_value("a=1; b=\"2\"", "b"), "2");
  EXPECT_EQ(cookie_value("a=1", "b"), std::nullopt);
  EXPECT_EQ(origin_of("https://h.example:8443/x?y"), "https://h.example:8443");
  EXPECT_EQ(origin_of("not a url"), "");
}

}  // namespace
}  // namespace hub
