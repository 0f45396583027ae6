// GetSecretValue over the JSON 1.1 protocol against an in-process service that checks SigV4, and
// the secret-or-environment rule for key settings.
#include "shared/aws/secrets_manager.h"

#include <gtest/gtest.h>

#include "local_server.h"
#include "shared/aws/secret_settings.h"
#include "shared/aws/sigv4_verifier.h"

using namespace shared::aws;
using shared::ConfigError;
using shared::ConfigSource;

namespace {

struct SecretsService {
  int calls = 0;
  std::string last_target, last_content_type;
  LocalServer server{[this](httplib::Server& s) {
    s.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      ReceivedRequest rr{"POST", "/", "", {}, req.body};
      for (const auto& [k, v] : req.headers) rr.headers.emplace_back(k, v);
      if (!verify_sigv4(rr, "AKIDSM", "SMSECRET", "secretsmanager").ok) {
        res.status = 403;
        res.set_content(R"({"__type":"InvalidSignatureException","message":"bad signature"})",
                        "application/x-amz-json-1.1");
        return;
      }
      ++calls;
      last_target = req.get_header_value("X-Amz-Target");
      last_content_type = req.get_header_value("Content-Type");
      auto body = nlohmann::json::parse(req.body);
      const std::string id = body["SecretId"];
      if (id == "arn:aws:secretsmanager:us-east-1:123456789012:secret:agent-keys") {
        res.set_content(
            nlohmann::json{{"ARN", id},
                           {"Name", "agent-keys"},
                           {"VersionId", "v1"},
                           {"SecretString", R"({"publisher":"pub-key","subscriber":"sub-key"})"}}
                .dump(),
            "application/x-amz-json-1.1");
      } else if (id == "plain") {
        res.set_content(R"({"ARN":"arn:plain","Name":"plain","SecretString":"just-a-key"})",
                        "application/x-amz-json-1.1");
      } else if (id == "binary") {
        res.set_content(R"({"ARN":"arn:bin","Name":"binary","SecretBinary":"aGVsbG8="})",
                        "application/x-amz-json-1.1");
      } else {
        res.status = 400;
        res.set_content(
            R"({"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."})",
            "application/x-amz-json-1.1");
      }
    });
  }};
};

struct Client {
  shared::http::HttpClient http;
  std::unique_ptr<SecretsManagerClient> client;
  explicit Client(const std::string& url) {
    AwsSettings s;
    s.region = "us-east-1";
    s.endpoint_urls["secrets-manager"] = url;
    client = std::make_unique<SecretsManagerClient>(
        s, make_static_credentials({"AKIDSM", "SMSECRET", "", std::nullopt}), http);
  }
};

}  // namespace

TEST(SecretsManager, GetSecretValueUsesJson11AndIsCached) {
  SecretsService svc;
  Client c(svc.server.url());
  auto v = c.client->get_secret_value("plain");
  EXPECT_EQ(v.secret_string, "just-a-key");
  EXPECT_EQ(v.arn, "arn:plain");
  EXPECT_EQ(svc.last_target, "secretsmanager.GetSecretValue");
  EXPECT_EQ(svc.last_content_type, "application/x-amz-json-1.1");
  c.client->get_secret_value("plain");
  EXPECT_EQ(svc.calls, 1);
  EXPECT_EQ(c.client->get_secret_value("binary").secret_binary, "hello");
}

TEST(SecretsManager, MissingSecretIsResourceNotFound) {
  SecretsService svc;
  Client c(svc.server.url());
  try {
    c.client->get_secret_value("nope");
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), "ResourceNotFoundException");
    EXPECT_EQ(e.status(), 400);
  }
}

TEST(SecretSetting, JsonKeyOfASecretArn) {
  SecretsService svc;
  Client c(svc.server.url());
  ConfigSource src(std::map<std::string, std::string>{
      {"MERCURE_PUBLISHER_JWT_KEY_SECRET_ARN",
       "arn:aws:secretsmanager:us-east-1:123456789012:secret:agent-keys#publisher"},
      {"MERCURE_PUBLISHER_JWT_KEY", "env-key"}});
  EXPECT_EQ(read_secret_setting(src, "MERCURE_PUBLISHER_JWT_KEY", c.client.get()), "pub-key");
}

TEST(SecretSetting, EnvironmentWhenNoSecretIsNamed) {
  ConfigSource src(std::map<std::string, std::string>{{"MERCURE_PUBLISHER_JWT_KEY", "env-key"}});
  EXPECT_EQ(read_secret_setting(src, "MERCURE_PUBLISHER_JWT_KEY", nullptr), "env-key");
  ConfigSource none;
  try {
    read_secret_setting(none, "MERCURE_PUBLISHER_JWT_KEY", nullptr);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.setting(), "MERCURE_PUBLISHER_JWT_KEY");
  }
  EXPECT_EQ(read_secret_setting(none, "MERCURE_PUBLISHER_JWT_KEY", nullptr, false), "");
}

TEST(SecretSetting, ASecretThatCannotBeReadStopsEvenWhenTheEnvironmentHasAValue) {
  SecretsService svc;
  Client c(svc.server.url());
  // NAME is the fallback for an unset NAME_SECRET_ARN only: a named secret that fails must not
  // quietly give way to another key.
  ConfigSource src(std::map<std::string, std::string>{{"K_SECRET_ARN", "nope"}, {"K", "env-key"}});
  try {
    read_secret_setting(src, "K", c.client.get());
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.setting(), "K_SECRET_ARN");
    EXPECT_NE(std::string(e.what()).find("ResourceNotFoundException"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("env-key"), std::string::npos);
  }
  ConfigSource missing_key(std::map<std::string, std::string>{
      {"K_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:agent-keys#nokey"}});
  try {
    read_secret_setting(missing_key, "K", c.client.get());
    FAIL();
  } catch (const ConfigError& e) {
    // Names the field and the setting, never the other values of the secret.
    EXPECT_EQ(e.setting(), "K_SECRET_ARN");
    EXPECT_NE(std::string(e.what()).find("'nokey'"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("pub-key"), std::string::npos);
  }
}

TEST(SecretSettings, ResolvesEveryNamedSettingWhoseArnIsSetAndLeavesTheRest) {
  SecretsService svc;
  Client c(svc.server.url());
  const std::string arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:agent-keys";
  ConfigSource src(std::map<std::string, std::string>{
      {"MERCURE_PUBLISHER_JWT_KEY_SECRET_ARN", arn + "#publisher"},
      {"MERCURE_PUBLISHER_JWT_KEY", "env-publisher"},
      {"MERCURE_SUBSCRIBER_JWT_KEY", "env-subscriber"},
      {"OTHER_SECRET_ARN", "plain"}});
  ConfigSource out = resolve_secret_settings(
      src, {"MERCURE_PUBLISHER_JWT_KEY", "MERCURE_SUBSCRIBER_JWT_KEY"}, *c.client);
  EXPECT_EQ(out.string("MERCURE_PUBLISHER_JWT_KEY", ""), "pub-key");
  EXPECT_EQ(out.string("MERCURE_SUBSCRIBER_JWT_KEY", ""), "env-subscriber");  // no ARN: as given
  EXPECT_EQ(out.string("OTHER", ""), "");  // not a secret-capable setting here
  EXPECT_EQ(svc.calls, 1);
}

TEST(SecretSettings, WithoutAnyArnNoAwsSettingIsNeeded) {
  // No region, no credentials: nothing is fetched, so nothing fails.
  ConfigSource src(
      std::map<std::string, std::string>{{"MERCURE_PUBLISHER_JWT_KEY", "env-publisher"}});
  ConfigSource out = resolve_secret_settings(src, {"MERCURE_PUBLISHER_JWT_KEY"});
  EXPECT_EQ(out.string("MERCURE_PUBLISHER_JWT_KEY", ""), "env-publisher");
}

TEST(SecretSettings, AnArnWithoutARegionNamesTheRegionSetting) {
  ConfigSource src(std::map<std::string, std::string>{
      {"MERCURE_PUBLISHER_JWT_KEY_SECRET_ARN", "arn:x"}, {"HOME", "/nonexistent"}});
  try {
    resolve_secret_settings(src, {"MERCURE_PUBLISHER_JWT_KEY"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.setting(), "AWS_REGION");
  }
}
