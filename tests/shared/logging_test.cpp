#include "shared/logging.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

namespace log = shared::log;

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::init(shared::LogConfig{"debug", "json"}, "test");
    log::set_sink_for_tests(&out_);
  }
  void TearDown() override { log::set_sink_for_tests(nullptr); }
  std::vector<nlohmann::json> lines() {
    std::vector<nlohmann::json> v;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
    return v;
  }
  std::ostringstream out_;
};

TEST_F(LoggingTest, OneJsonObjectPerLineWithLevelServiceAndFields) {
  log::info("session created", {{"session_id", "s1"}, {"count", 3}});
  auto v = lines();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["level"], "info");
  EXPECT_EQ(v[0]["service"], "test");
  EXPECT_EQ(v[0]["msg"], "session created");
  EXPECT_EQ(v[0]["session_id"], "s1");
  EXPECT_EQ(v[0]["count"], 3);
  EXPECT_TRUE(v[0].contains("ts"));
  EXPECT_FALSE(v[0].contains("request_id"));
}

TEST_F(LoggingTest, EveryLineInsideARequestScopeCarriesTheRequestId) {
  {
    log::RequestScope scope("req-42");
    log::info("first");
    log::warn("second");
  }
  log::info("after");
  auto v = lines();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0]["request_id"], "req-42");
  EXPECT_EQ(v[1]["request_id"], "req-42");
  EXPECT_FALSE(v[2].contains("request_id"));
}

TEST_F(LoggingTest, SecretFieldsAreRedactedByName) {
  log::info("call",
            {{"authorization", "Bearer abc.def.ghi"},
             {"nested", {{"aws_secret_access_key", "wJalrXUtnFEMI"}, {"region", "us-east-1"}}},
             {"Cookie", "mercureAuthorization=xyz"}});
  auto v = lines();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["authorization"], "[redacted]");
  EXPECT_EQ(v[0]["nested"]["aws_secret_access_key"], "[redacted]");
  EXPECT_EQ(v[0]["nested"]["region"], "us-east-1");
  EXPECT_EQ(v[0]["Cookie"], "[redacted]");
}

TEST_F(LoggingTest, RegisteredSecretValuesAreRedactedAnywhere) {
  log::add_secret("s3cr3t-publisher-key");
  log::error("failed to sign with s3cr3t-publisher-key", {{"detail", "key=s3cr3t-publisher-key!"}});
  const std::string raw = out_.str();
  EXPECT_EQ(raw.find("s3cr3t-publisher-key"), std::string::npos) << raw;
  auto v = lines();
  EXPECT_EQ(v[0]["msg"], "failed to sign with [redacted]");
  EXPECT_EQ(v[0]["detail"], "key=[redacted]!");
}

// The agent registers its publisher key, which may be a multi-line PEM private key: inside a
// JSON string its newlines read "\n", so matching only the serialised line would miss it.
TEST_F(LoggingTest, AMultiLinePemSecretIsRedactedWhereverItAppears) {
  const std::string pem =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQ2TDrLxSOVnBTest\n"
      "hRANCAATu4bTestKeyMaterialLine2ForRedactionOnlyNotARealKey0000\n"
      "-----END PRIVATE KEY-----\n";
  log::add_secret(pem);
  log::error("cannot sign with " + pem,
             {{"detail", "key was " + pem}, {"nested", {{"list", {1, "pem: " + pem}}}}});
  const std::string raw = out_.str();
  EXPECT_EQ(raw.find("QQgQ2TDrLxSOVnBTest"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("KeyMaterialLine2"), std::string::npos) << raw;
  auto v = lines();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["msg"], "cannot sign with [redacted]");
  EXPECT_EQ(v[0]["detail"], "key was [redacted]");
  EXPECT_EQ(v[0]["nested"]["list"][1], "pem: [redacted]");
}

TEST_F(LoggingTest, ASecretWithQuotesAndBackslashesIsRedacted) {
  const std::string secret = R"(pa"ss\wo\rd-with-quote")";
  log::add_secret(secret);
  log::warn("login", {{"detail", "used " + secret}});
  const std::string raw = out_.str();
  EXPECT_EQ(raw.find("wo\\\\rd"), std::string::npos) << raw;  // its JSON-escaped form
  EXPECT_EQ(raw.find("wo\\rd"), std::string::npos) << raw;
  EXPECT_EQ(lines()[0]["detail"], "used [redacted]");
}

TEST_F(LoggingTest, TextFormatEscapesControlCharactersSoNoLineCanBeForged) {
  log::init(shared::LogConfig{"info", "text"}, "test");
  log::info("request\nforged line", {{"path", "/a\n2024-01-01T00:00:00.000Z error test fake"},
                                     {"agent", "tab\there\r\x01"}});
  const std::string line = out_.str();
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_NE(line.find("request\\nforged line"), std::string::npos) << line;
  EXPECT_NE(line.find("path=/a\\n2024-01-01"), std::string::npos) << line;
  EXPECT_NE(line.find("agent=tab\\there\\r\\x01"), std::string::npos) << line;
}

TEST(LoggingSecretFields, NamesThatAreOrEndInASecretWordAreSecret) {
  for (const char* name : {"token",
                           "session_token",
                           "AWS_SESSION_TOKEN",
                           "x-amz-security-token",
                           "accessToken",
                           "secret",
                           "client_secret",
                           "password",
                           "db_password",
                           "authorization",
                           "Proxy-Authorization",
                           "mercureAuthorization",
                           "cookie",
                           "Set-Cookie",
                           "key",
                           "private_key",
                           "aws_secret_access_key",
                           "X-Api-Key",
                           "apiKey",
                           "apikey",
                           "jwt",
                           "credentials",
                           "signature"})
    EXPECT_TRUE(log::is_secret_field(name)) << name;
}

TEST(LoggingSecretFields, CountsAndIdentifiersAreNotSecret) {
  for (const char* name :
       {"input_tokens", "output_tokens", "inputTokens", "tokens", "token_count", "max_tokens",
        "key_id", "keys", "secret_arn", "monkey", "session_id", "path", "cookies_enabled"})
    EXPECT_FALSE(log::is_secret_field(name)) << name;
}

TEST_F(LoggingTest, TokenCountsAreLoggedAndTokensAreNot) {
  log::info("usage", {{"input_tokens", 12}, {"output_tokens", 34}, {"session_token", "abc"}});
  auto v = lines();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["input_tokens"], 12);
  EXPECT_EQ(v[0]["output_tokens"], 34);
  EXPECT_EQ(v[0]["session_token"], "[redacted]");
}

TEST_F(LoggingTest, LevelFiltersLowerLines) {
  log::init(shared::LogConfig{"warn", "json"}, "test");
  log::info("dropped");
  log::debug("dropped too");
  log::warn("kept");
  auto v = lines();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["msg"], "kept");
}

TEST_F(LoggingTest, TextFormatIsOneReadableLine) {
  log::init(shared::LogConfig{"info", "text"}, "test");
  log::RequestScope scope("r1");
  log::info("hello", {{"user", "u1"}, {"token", "zzz"}});
  const std::string line = out_.str();
  EXPECT_NE(line.find(" info test hello request_id=r1 "), std::string::npos) << line;
  EXPECT_NE(line.find("user=u1"), std::string::npos) << line;
  EXPECT_NE(line.find("token=[redacted]"), std::string::npos) << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

TEST_F(LoggingTest, InvalidUtf8DoesNotBreakTheLine) {
  log::info("bytes", {{"value", std::string("\xff\xfe ok")}});
  auto v = lines();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0]["value"].get<std::string>().find("ok"), std::string::npos);
}

TEST(LoggingIds, NewRequestIdsAreUniqueHex) {
  const auto a = log::new_request_id(), b = log::new_request_id();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
