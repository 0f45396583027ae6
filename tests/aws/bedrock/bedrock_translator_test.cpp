// Request building and ConverseStream translation without sockets.
#include <gtest/gtest.h>

#include "model/bedrock_converse_request.h"
#include "model/bedrock_provider.h"
#include "model/bedrock_stream_translator.h"

using namespace agent::model;
using shared::aws::StreamEvent;

namespace {

StreamEvent ev(const std::string& type, const std::string& payload) {
  return StreamEvent{StreamEvent::Kind::kEvent, type, "", payload};
}

}  // namespace

TEST(ConversePath, ModelIdAndArnAreOneEncodedSegment) {
  EXPECT_EQ(converse_path("anthropic.claude-3-5-sonnet-20240620-v1:0", true),
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream");
  EXPECT_EQ(converse_path("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
                          "us.meta.llama3-2-1b-instruct-v1:0",
                          false),
            "/model/"
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.meta.llama3-2-"
            "1b-instruct-v1%3A0/converse");
}

TEST(ConverseBody, CarriesSystemInferenceConfigToolsAndToolResults) {
  ModelRequest r;
  r.system_prompt = "Be brief.";
  r.max_tokens = 300;
  r.temperature = 0.2;
  r.tools = {{"current_time",
              "Current time",
              {{"type", "object"}, {"properties", {{"tz", {{"type", "string"}}}}}}}};
  ContentBlock user_text;
  user_text.text = "what time is it?";
  ContentBlock tool_use;
  tool_use.kind = ContentBlock::Kind::kToolUse;
  tool_use.tool_use_id = "t1";
  tool_use.tool_name = "current_time";
  tool_use.tool_input = {{"tz", "UTC"}};
  ContentBlock blank;
  blank.text = "  ";
  ContentBlock result;
  result.kind = ContentBlock::Kind::kToolResult;
  result.tool_use_id = "t1";
  result.tool_output = "12:00";
  result.tool_is_error = true;
  r.messages = {{"user", {user_text}}, {"assistant", {blank, tool_use}}, {"user", {result}}};
  auto body = build_converse_body(r);
  EXPECT_EQ(body["system"], nlohmann::json::parse(R"([{"text":"Be brief."}])"));
  EXPECT_EQ(body["inferenceConfig"]["maxTokens"], 300);
  EXPECT_DOUBLE_EQ(body["inferenceConfig"]["temperature"].get<double>(), 0.2);
  EXPECT_EQ(body["toolConfig"]["tools"][0]["toolSpec"]["name"], "current_time");
  EXPECT_EQ(
      body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["properties"]["tz"]["type"],
      "string");
  ASSERT_EQ(body["messages"].size(), 3u);
  EXPECT_EQ(body["messages"][1]["content"].size(), 1u);  // the blank text block is dropped
  EXPECT_EQ(body["messages"][1]["content"][0]["toolUse"]["input"]["tz"], "UTC");
  EXPECT_EQ(body["messages"][2]["content"][0]["toolResult"]["status"], "error");
  EXPECT_EQ(body["messages"][2]["content"][0]["toolResult"]["content"][0]["text"], "12:00");
}

TEST(ConverseStreamTranslator, TranslatesEveryEventTypeAndIgnoresUnknownKeys) {
  std::vector<ModelEvent> out;
  ConverseStreamTranslator t([&](const ModelEvent& e) { out.push_back(e); });
  t.on_message(ev("messageStart", R"({"role":"assistant","p":"abc"})"));
  t.on_message(ev("contentBlockDelta",
                  R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hmm"}}})"));
  t.on_message(ev("contentBlockDelta",
                  R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"sig"}}})"));
  t.on_message(ev("contentBlockStop", R"({"contentBlockIndex":0})"));
  t.on_message(
      ev("contentBlockDelta", R"({"contentBlockIndex":1,"delta":{"text":"Hi"},"newKey":{"x":1}})"));
  t.on_message(ev("contentBlockStop", R"({"contentBlockIndex":1})"));
  t.on_message(
      ev("contentBlockStart",
         R"({"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"tu1","name":"calc"}}})"));
  t.on_message(ev("contentBlockDelta",
                  R"({"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"a\":"}}})"));
  t.on_message(
      ev("contentBlockDelta", R"({"contentBlockIndex":2,"delta":{"toolUse":{"input":"1}"}}})"));
  t.on_message(ev("contentBlockStop", R"({"contentBlockIndex":2})"));
  t.on_message(
      ev("messageStop", R"({"stopReason":"tool_use","additionalModelResponseFields":{}})"));
  t.on_message(ev(
      "metadata",
      R"({"usage":{"inputTokens":10,"outputTokens":4,"totalTokens":14},"metrics":{"latencyMs":250},"trace":{}})"));
  t.on_message(ev("someFutureEvent", R"({"x":1})"));
  ASSERT_EQ(out.size(), 9u);
  EXPECT_EQ(out[0].kind, ModelEvent::Kind::kReasoningDelta);
  EXPECT_EQ(out[0].text, "hmm");
  EXPECT_EQ(out[1].kind, ModelEvent::Kind::kReasoningDelta);  // the signature is kept, not dropped
  EXPECT_EQ(out[1].text, "");
  EXPECT_EQ(out[1].reasoning_signature, "sig");
  out.erase(out.begin() + 1);
  EXPECT_EQ(out[1].kind, ModelEvent::Kind::kTextDelta);
  EXPECT_EQ(out[1].text, "Hi");
  EXPECT_EQ(out[2].kind, ModelEvent::Kind::kToolUseStart);
  EXPECT_EQ(out[2].tool_name, "calc");
  EXPECT_EQ(out[3].text + out[4].text, "{\"a\":1}");
  EXPECT_EQ(out[4].tool_use_id, "tu1");
  EXPECT_EQ(out[5].kind, ModelEvent::Kind::kToolUseStop);
  EXPECT_EQ(out[6].stop_reason, "tool_use");
  EXPECT_EQ(out[7].kind, ModelEvent::Kind::kUsage);
  EXPECT_EQ(out[7].input_tokens, 10);
  EXPECT_EQ(out[7].output_tokens, 4);
  EXPECT_EQ(out[7].latency_ms, 250);
}

TEST(ConverseStreamTranslator, InStreamExceptionsBecomeTypedModelErrors) {
  struct Case {
    const char* type;
    const char* code;
    bool retryable;
  };
  for (const Case& c : {Case{"throttlingException", "throttled", true},
                        Case{"modelStreamErrorException", "model_error", false},
                        Case{"validationException", "validation", false},
                        Case{"internalServerException", "unavailable", true},
                        Case{"serviceUnavailableException", "unavailable", true}}) {
    ConverseStreamTranslator t([](const ModelEvent&) {});
    try {
      t.on_message(StreamEvent{StreamEvent::Kind::kException, c.type, "details here", "{}"});
      FAIL() << c.type;
    } catch (const ModelError& e) {
      EXPECT_EQ(e.code(), c.code) << c.type;
      EXPECT_EQ(e.retryable(), c.retryable) << c.type;
      EXPECT_NE(std::string(e.what()).find("details here"), std::string::npos);
    }
  }
}

TEST(ConverseStreamTranslator, BrokenToolInputIsAModelError) {
  ConverseStreamTranslator t([](const ModelEvent&) {});
  t.on_message(ev("contentBlockStart",
                  R"({"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"x","name":"n"}}})"));
  t.on_message(ev("contentBlockDelta",
                  R"({"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"a\":"}}})"));
  EXPECT_THROW(t.on_message(ev("contentBlockStop", R"({"contentBlockIndex":0})")), ModelError);
  EXPECT_THROW(t.on_message(ev("messageStop", "not json")), ModelError);
}

TEST(ConverseResponse, NonStreamingAnswerBecomesTheSameEvents) {
  std::vector<ModelEvent> out;
  translate_converse_response(nlohmann::json::parse(R"({
    "output":{"message":{"role":"assistant","content":[{"text":"Checking."},
      {"toolUse":{"toolUseId":"t9","name":"current_time","input":{"tz":"UTC"}}}]}},
    "stopReason":"tool_use","usage":{"inputTokens":3,"outputTokens":2},"metrics":{"latencyMs":9},"extra":true})"),
                              [&](const ModelEvent& e) { out.push_back(e); });
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].text, "Checking.");
  EXPECT_EQ(out[1].tool_name, "current_time");
  EXPECT_EQ(nlohmann::json::parse(out[2].text)["tz"], "UTC");
  EXPECT_EQ(out[4].stop_reason, "tool_use");
  EXPECT_EQ(out[5].latency_ms, 9);
}

TEST(BedrockSettings, ReadsTheSettingsAndNamesABadOne) {
  shared::ConfigSource src(
      std::map<std::string, std::string>{{"BEDROCK_MODEL_ID", "amazon.nova-lite-v1:0"},
                                         {"BEDROCK_STALL_TIMEOUT", "15s"},
                                         {"BEDROCK_STREAMING", "false"},
                                         {"AWS_REGION", "eu-central-1"},
                                         {"HOME", "/nonexistent"}});
  BedrockSettings s = read_bedrock_settings(src);
  EXPECT_EQ(s.model_id, "amazon.nova-lite-v1:0");
  EXPECT_EQ(s.stall_timeout, std::chrono::seconds(15));
  EXPECT_FALSE(s.streaming);
  EXPECT_EQ(s.aws.region, "eu-central-1");
  shared::ConfigSource bad(std::map<std::string, std::string>{{"BEDROCK_STALL_TIMEOUT", "soon"}});
  try {
    read_bedrock_settings(bad);
    FAIL();
  } catch (const shared::ConfigError& e) {
    EXPECT_EQ(e.setting(), "BEDROCK_STALL_TIMEOUT");
  }
}

TEST(BedrockSettings, ProviderNeedsARegionOrAnEndpoint) {
  BedrockSettings s;
  s.model_id = "m";
  try {
    make_bedrock_provider(s, shared::aws::make_static_credentials({"a", "b", "", std::nullopt}));
    FAIL();
  } catch (const shared::ConfigError& e) {
    EXPECT_EQ(e.setting(), "AWS_REGION");
  }
}

TEST(ConverseStreamTranslator, RedactedReasoningIsKeptAsSent) {
  std::vector<ModelEvent> out;
  ConverseStreamTranslator t([&](const ModelEvent& e) { out.push_back(e); });
  t.on_message(ev(
      "contentBlockDelta",
      R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"redactedContent":"ZW5jcnlwdGVk"}}})"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, ModelEvent::Kind::kReasoningDelta);
  EXPECT_EQ(out[0].redacted_reasoning, "ZW5jcnlwdGVk");
}

TEST(ConverseResponse, ReasoningTextSignatureAndRedactedContentAreKept) {
  std::vector<ModelEvent> out;
  translate_converse_response(
      nlohmann::json::parse(R"({"output":{"message":{"role":"assistant","content":[
      {"reasoningContent":{"reasoningText":{"text":"think","signature":"sig-1"}}},
      {"reasoningContent":{"redactedContent":"c2VjcmV0"}},
      {"toolUse":{"toolUseId":"t1","name":"calc","input":{}}}]}},"stopReason":"tool_use"})"),
      [&](const ModelEvent& e) { out.push_back(e); });
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[0].text, "think");
  EXPECT_EQ(out[0].reasoning_signature, "sig-1");
  EXPECT_EQ(out[1].redacted_reasoning, "c2VjcmV0");
}

TEST(ConverseBody, ReasoningBlocksGoBackWithTheirSignatureBeforeTheToolUse) {
  // Extended thinking with tool use: the assistant message that asked for the tool is sent back
  // with its reasoning blocks first and unchanged (reasoningText + signature, or redactedContent).
  ModelRequest r;
  ContentBlock question;
  question.text = "2+2?";
  ContentBlock thought;
  thought.kind = ContentBlock::Kind::kReasoning;
  thought.text = "I should use the calculator.";
  thought.reasoning_signature = "EqQBCkYIARgCIkBsig";
  ContentBlock redacted;
  redacted.kind = ContentBlock::Kind::kReasoning;
  redacted.redacted_reasoning = "c2VjcmV0IHRob3VnaHQ=";
  ContentBlock unsigned_thought;  // no signature: cannot be sent back
  unsigned_thought.kind = ContentBlock::Kind::kReasoning;
  unsigned_thought.text = "stray";
  ContentBlock use;
  use.kind = ContentBlock::Kind::kToolUse;
  use.tool_use_id = "t1";
  use.tool_name = "calc";
  use.tool_input = {{"expr", "2+2"}};
  ContentBlock result;
  result.kind = ContentBlock::Kind::kToolResult;
  result.tool_use_id = "t1";
  result.tool_output = "4";
  r.messages = {{"user", {question}},
                {"assistant", {thought, redacted, unsigned_thought, use}},
                {"user", {result}}};
  const auto body = build_converse_body(r);
  EXPECT_EQ(body["messages"][1], nlohmann::json::parse(R"({"role":"assistant","content":[
      {"reasoningContent":{"reasoningText":{"text":"I should use the calculator.","signature":"EqQBCkYIARgCIkBsig"}}},
      {"reasoningContent":{"redactedContent":"c2VjcmV0IHRob3VnaHQ="}},
      {"toolUse":{"toolUseId":"t1","name":"calc","input":{"expr":"2+2"}}}]})"));
}
