// read_openai_settings and the agent's config with AGENT_MODEL_PROVIDER=openai: defaults, and
// a one-line error naming the setting for each bad value.
#include <gtest/gtest.h>

#include "agent_config.h"
#include "model/openai_provider.h"
#include "model/provider_factory.h"

using agent::model::read_openai_settings;
using shared::ConfigError;
using shared::ConfigSource;

namespace {

ConfigSource source(std::map<std::string, std::string> values) {
  return ConfigSource(std::move(values));
}

std::string error_of(std::map<std::string, std::string> values) {
  try {
    read_openai_settings(source(std::move(values)));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const std::map<std::string, std::string> kMinimal = {
    {"OPENAI_BASE_URL", "http://127.0.0.1:11434/v1/"}, {"OPENAI_MODEL", "llama3.1:8b"}};

std::map<std::string, std::string> with(std::string key, std::string value) {
  auto m = kMinimal;
  m[std::move(key)] = std::move(value);
  return m;
}

}  // namespace

TEST(OpenAiSettings, DefaultsWithTheTwoRequiredSettings) {
  const auto s = read_openai_settings(source(kMinimal));
  EXPECT_EQ(s.base_url, "http://127.0.0.1:11434/v1");  // trailing slash dropped
  EXPECT_EQ(s.model, "llama3.1:8b");
  EXPECT_EQ(s.api_key, "");
  EXPECT_TRUE(s.streaming);
  EXPECT_EQ(s.max_tokens_field, "max_tokens");
  EXPECT_EQ(s.connect_timeout, std::chrono::seconds(5));
  EXPECT_EQ(s.request_timeout, std::chrono::minutes(10));
  EXPECT_EQ(s.stall_timeout, std::chrono::seconds(120));
  EXPECT_EQ(s.max_attempts, 3);
  EXPECT_EQ(s.max_event_bytes, 1024u * 1024u);
  EXPECT_EQ(s.event_queue, 1024u);
}

TEST(OpenAiSettings, EverySettingIsRead) {
  auto m = kMinimal;
  m.insert({{"OPENAI_API_KEY", " sk-abc \n"},
            {"OPENAI_STREAMING", "false"},
            {"OPENAI_MAX_TOKENS_FIELD", "max_completion_tokens"},
            {"OPENAI_CONNECT_TIMEOUT", "250ms"},
            {"OPENAI_REQUEST_TIMEOUT", "2m"},
            {"OPENAI_STALL_TIMEOUT", "30s"},
            {"OPENAI_MAX_ATTEMPTS", "5"},
            {"OPENAI_MAX_EVENT_BYTES", "64KiB"},
            {"OPENAI_EVENT_QUEUE", "16"}});
  const auto s = read_openai_settings(source(m));
  EXPECT_EQ(s.api_key, "sk-abc");  // a key pasted from a file loses its newline
  EXPECT_FALSE(s.streaming);
  EXPECT_EQ(s.max_tokens_field, "max_completion_tokens");
  EXPECT_EQ(s.connect_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(s.request_timeout, std::chrono::minutes(2));
  EXPECT_EQ(s.stall_timeout, std::chrono::seconds(30));
  EXPECT_EQ(s.max_attempts, 5);
  EXPECT_EQ(s.max_event_bytes, 64u * 1024u);
  EXPECT_EQ(s.event_queue, 16u);
}

TEST(OpenAiSettings, BadValuesNameTheSetting) {
  EXPECT_EQ(error_of({{"OPENAI_MODEL", "m"}}).rfind("OPENAI_BASE_URL: is required", 0), 0u);
  EXPECT_EQ(error_of({{"OPENAI_BASE_URL", "http://h/v1"}}).rfind("OPENAI_MODEL: is required", 0),
            0u);
  EXPECT_EQ(error_of(with("OPENAI_BASE_URL", "localhost:11434/v1")).rfind("OPENAI_BASE_URL:", 0),
            0u);
  EXPECT_EQ(error_of(with("OPENAI_BASE_URL", "http://h/v1/chat/completions"))
                .rfind("OPENAI_BASE_URL:", 0),
            0u);
  EXPECT_EQ(error_of(with("OPENAI_BASE_URL", "http://h/v1?key=x")).rfind("OPENAI_BASE_URL:", 0),
            0u);
  EXPECT_EQ(error_of(with("OPENAI_STREAMING", "maybe")).rfind("OPENAI_STREAMING:", 0), 0u);
  EXPECT_EQ(
      error_of(with("OPENAI_MAX_TOKENS_FIELD", "tokens")).rfind("OPENAI_MAX_TOKENS_FIELD:", 0), 0u);
  EXPECT_EQ(error_of(with("OPENAI_STALL_TIMEOUT", "0s")).rfind("OPENAI_STALL_TIMEOUT:", 0), 0u);
  EXPECT_EQ(error_of(with("OPENAI_REQUEST_TIMEOUT", "soon")).rfind("OPENAI_REQUEST_TIMEOUT:", 0),
            0u);
  EXPECT_EQ(error_of(with("OPENAI_CONNECT_TIMEOUT", "1h")).rfind("OPENAI_CONNECT_TIMEOUT:", 0), 0u);
  EXPECT_EQ(error_of(with("OPENAI_MAX_ATTEMPTS", "0")).rfind("OPENAI_MAX_ATTEMPTS:", 0), 0u);
  EXPECT_EQ(error_of(with("OPENAI_MAX_EVENT_BYTES", "12")).rfind("OPENAI_MAX_EVENT_BYTES:", 0), 0u);
  EXPECT_EQ(error_of(with("OPENAI_EVENT_QUEUE", "-1")).rfind("OPENAI_EVENT_QUEUE:", 0), 0u);
}

TEST(OpenAiSettings, AKeyWithAControlCharacterIsRefusedWithoutShowingIt) {
  const std::string error = error_of(with("OPENAI_API_KEY", "sk-one\r\nX-Injected: 1"));
  EXPECT_EQ(error.rfind("OPENAI_API_KEY:", 0), 0u);
  EXPECT_EQ(error.find("sk-one"), std::string::npos);
}

TEST(OpenAiSettings, TheAgentConfigBuildsTheOpenAiProvider) {
  auto values = kMinimal;
  values["AGENT_MODEL_PROVIDER"] = "openai";
  values["MERCURE_PUBLISHER_JWT_KEY"] = "0123456789abcdef0123";
  const auto config = agent::read_agent_config(source(values));
  EXPECT_EQ(config.openai.model, "llama3.1:8b");
  EXPECT_EQ(agent::model::make_model_provider(config)->name(), "openai");

  values.erase("OPENAI_MODEL");
  try {
    agent::read_agent_config(source(values));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.setting(), "OPENAI_MODEL");
  }
  // Other providers do not need the OpenAI settings.
  values.erase("OPENAI_BASE_URL");
  values["AGENT_MODEL_PROVIDER"] = "demo";
  EXPECT_NO_THROW(agent::read_agent_config(source(values)));
}
