// Unit tests of the app's parts that need no sockets: the /api path mapping, header screening,
// the origin policy, the rate limiter, the hub cookie and the subscriber cookie filter.
// (The server's own parts have their tests in server_parts_test.cpp.)
#include <gtest/gtest.h>

#include "api_proxy.h"
#include "authenticator.h"
#include "header_screening.h"
#include "hub_route.h"
#include "origin_policy.h"
#include "rate_limiter.h"
#include "request.h"
#include "shared/jwt.h"
#include "subscriber_cookie.h"

namespace app {
namespace {

TEST(AgentTargetFor, MapsApiPathsToV1KeepingTheQuery) {
  EXPECT_EQ(agent_target_for("/api/sessions"), "/v1/sessions");
  EXPECT_EQ(agent_target_for("/api/sessions/abc/messages"), "/v1/sessions/abc/messages");
  EXPECT_EQ(agent_target_for("/api/sessions?limit=5&cursor=x%3D"),
            "/v1/sessions?limit=5&cursor=x%3D");
}

TEST(AgentTargetFor, RefusesTraversalEncodedSlashesAndOddCharacters) {
  EXPECT_EQ(agent_target_for("/api/../metrics"), "");
  EXPECT_EQ(agent_target_for("/api/sessions/./x"), "");
  EXPECT_EQ(agent_target_for("/api/sessions//x"), "");
  EXPECT_EQ(agent_target_for("/api/sessions/%2e%2e/x"), "");
  EXPECT_EQ(agent_target_for("/api/sessions/a b"), "");
  EXPECT_EQ(agent_target_for("/api/sessions?x=<script>"), "");
  EXPECT_EQ(agent_target_for("/api/"), "");
  EXPECT_EQ(agent_target_for("/other/sessions"), "");
}

TEST(IsSessionPath, IsOneSessionNotTheListOrItsMessages) {
  EXPECT_TRUE(is_session_path("/api/sessions/abc"));
  EXPECT_FALSE(is_session_path("/api/sessions"));
  EXPECT_FALSE(is_session_path("/api/sessions/"));
  EXPECT_FALSE(is_session_path("/api/sessions/abc/messages"));
}

Request with_headers(std::initializer_list<std::pair<const char*, const char*>> headers) {
  Request req;
  for (const auto& [k, v] : headers) req.headers.add(k, v);
  return req;
}

TEST(HeaderScreening, AcceptsOrdinaryHeaders) {
  EXPECT_EQ(header_problem(with_headers({{"Host", "x"}, {"Accept", "application/json"}})), "");
}

TEST(HeaderScreening, RefusesServerSideNamesInAnyLetterCase) {
  for (const char* name :
       {"REMOTE_ADDR", "remote_addr", "Remote_Port", "LOCAL_ADDR", "local_port"}) {
    EXPECT_NE(header_problem(with_headers({{"Host", "x"}, {name, "6.6.6.6"}})), "") << name;
  }
}

TEST(HeaderScreening, RefusesNamesThatAreNotTokensAndLineBreaksInValues) {
  EXPECT_NE(header_problem(with_headers({{" X-User-Id", "evil"}})), "");
  EXPECT_NE(header_problem(with_headers({{"X-Note", "a\r\nX-User-Id: evil"}})), "");
}

Request request(const std::string& method, const std::string& origin,
                const std::string& host = "app:8080") {
  Request req;
  req.method = method;
  if (!origin.empty()) req.headers.add("Origin", origin);
  req.headers.add("Host", host);
  return req;
}

TEST(OriginPolicy, LetsReadsThroughAndChecksWrites) {
  OriginPolicy own({});
  EXPECT_EQ(own.problem(request("GET", ""), false), "");
  EXPECT_EQ(own.problem(request("POST", "http://app:8080"), false), "");
  EXPECT_NE(own.problem(request("POST", "http://evil.example"), false), "");
  EXPECT_NE(own.problem(request("DELETE", ""), false), "");
  EXPECT_EQ(own.problem(request("DELETE", ""), true), "");
  OriginPolicy listed({"https://chat.example.com"});
  EXPECT_EQ(listed.problem(request("PATCH", "https://chat.example.com"), false), "");
  EXPECT_NE(listed.problem(request("PATCH", "http://app:8080"), false), "");
}

TEST(RateLimiter, AllowsTheBurstThenAsksToWaitAndRefills) {
  RateLimiter limiter(60, 3, 100);  // one per second, burst 3
  const auto t0 = RateLimiter::Clock::now();
  EXPECT_EQ(limiter.take("u", t0), 0);
  EXPECT_EQ(limiter.take("u", t0), 0);
  EXPECT_EQ(limiter.take("u", t0), 0);
  EXPECT_EQ(limiter.take("u", t0), 1);
  EXPECT_EQ(limiter.take("other", t0), 0);  // per user
  EXPECT_EQ(limiter.take("u", t0 + std::chrono::milliseconds(1100)), 0);
}

TEST(RateLimiter, KeepsTheNumberOfTrackedUsersBounded) {
  RateLimiter limiter(60, 2, 10);
  auto t = RateLimiter::Clock::now();
  for (int i = 0; i < 100; ++i) {
    limiter.take("user" + std::to_string(i), t);
    t += std::chrono::seconds(5);  // everybody's bucket refills before the next newcomer
  }
  EXPECT_LE(limiter.tracked_users(), 10u);
}

TEST(SubscriberCookie, AllowsExactlyTheUsersSessionTopicsAsATemplate) {
  SubscriberCookie cookie("secret-key-0123456789", std::chrono::seconds(600), true);
  const auto now = std::chrono::system_clock::now();
  const std::string header = cookie.set_cookie("alice", now);
  EXPECT_EQ(header.rfind("mercureAuthorization=", 0), 0u);
  EXPECT_NE(header.find("; Path=/.well-known/mercure"), std::string::npos);
  EXPECT_NE(header.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(header.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(header.find("; Secure"), std::string::npos);
  const auto claims = shared::jwt::verify(
      cookie.token("alice", now),
      {shared::jwt::Key{shared::jwt::Algorithm::kHS256, "secret-key-0123456789", ""}});
  EXPECT_EQ(claims["mercure"]["subscribe"],
            nlohmann::json::array({"/users/alice/sessions/{session}"}));
  EXPECT_NEAR(
      claims["exp"].get<double>(),
      std::chrono::duration<double>((now + std::chrono::seconds(600)).time_since_epoch()).count(),
      2);
  EXPECT_EQ(
      SubscriberCookie("k", std::chrono::seconds(60), false).set_cookie("bob", now).find("Secure"),
      std::string::npos);
}

TEST(SubscriberCookieOnly, PassesTheHubCookieAndNothingElse) {
  EXPECT_EQ(subscriber_cookie_only("a=1; mercureAuthorization=abc.def; b=2"),
            "mercureAuthorization=abc.def");
  EXPECT_EQ(subscriber_cookie_only("session=secret"), "");
  EXPECT_EQ(subscriber_cookie_only(""), "");
}

TEST(SubscriberCookieUser, IsTheUserOfACookieTheAppIssuedAndNobodyElse) {
  SubscriberCookie cookie("secret-key-0123456789", std::chrono::seconds(600), false);
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(subscriber_cookie_user(cookie.token("alice", now), "secret-key-0123456789"), "alice");
  EXPECT_EQ(subscriber_cookie_user(cookie.token("alice", now), "another-key-0123456789"), "");
  EXPECT_EQ(subscriber_cookie_user("not.a.jwt", "secret-key-0123456789"), "");
  const auto expired = cookie.token("alice", now - std::chrono::hours(2));
  EXPECT_EQ(subscriber_cookie_user(expired, "secret-key-0123456789"), "");
  const auto foreign = shared::jwt::sign(
      {{"mercure", {{"subscribe", {"*"}}}}},
      shared::jwt::Key{shared::jwt::Algorithm::kHS256, "secret-key-0123456789", ""});
  EXPECT_EQ(subscriber_cookie_user(foreign, "secret-key-0123456789"), "");
}

TEST(PlausibleUserId, RefusesCharactersThatWouldBendTheTopic) {
  EXPECT_TRUE(plausible_user_id("alice@example.com"));
  EXPECT_TRUE(plausible_user_id("5f0c1d7e-aaaa-bbbb-cccc-123456789abc"));
  EXPECT_FALSE(plausible_user_id(""));
  EXPECT_FALSE(plausible_user_id("a/b"));
  EXPECT_FALSE(plausible_user_id("a{b}"));
  EXPECT_FALSE(plausible_user_id("a b"));
  EXPECT_FALSE(plausible_user_id(std::string(300, 'a')));
}

}  // namespace
}  // namespace app
