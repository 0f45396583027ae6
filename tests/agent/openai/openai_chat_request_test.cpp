// build_chat_body: the chat completions request for a conversation with tool use, and the fake
// server's request checks (which follow OpenAI's) accepting it.
#include "model/openai_chat_request.h"

#include <gtest/gtest.h>

#include "fake_openai.h"

using namespace agent::model;
using nlohmann::json;

namespace {

ContentBlock text(const std::string& t) {
  ContentBlock b;
  b.text = t;
  return b;
}

ContentBlock tool_use(const std::string& id, const std::string& name, json input) {
  ContentBlock b;
  b.kind = ContentBlock::Kind::kToolUse;
  b.tool_use_id = id;
  b.tool_name = name;
  b.tool_input = std::move(input);
  return b;
}

ContentBlock tool_result(const std::string& id, const std::string& output, bool is_error = false) {
  ContentBlock b;
  b.kind = ContentBlock::Kind::kToolResult;
  b.tool_use_id = id;
  b.tool_output = output;
  b.tool_is_error = is_error;
  return b;
}

ModelRequest tool_conversation() {
  ModelRequest r;
  r.system_prompt = "You are terse.";
  r.max_tokens = 300;
  r.tools = {{"current_time",
              "The current time",
              {{"type", "object"}, {"properties", {{"utc_offset", {{"type", "string"}}}}}}},
             {"lookup", "Look something up", nullptr}};
  ContentBlock reasoning;
  reasoning.kind = ContentBlock::Kind::kReasoning;
  reasoning.text = "the user wants two things";
  r.messages = {{"user", {text("What time is it, and look up x?")}},
                {"assistant",
                 {reasoning, text("Checking."),
                  tool_use("call_a", "current_time", {{"utc_offset", "+02:00"}}),
                  tool_use("call_b", "lookup", json::object())}},
                {"user",
                 {tool_result("call_a", "2026-01-01T02:00:00+02:00"),
                  tool_result("call_b", "no such thing", true)}},
                {"assistant", {text("It is 2 am.")}},
                {"user", {text("Thanks."), text("Bye.")}}};
  return r;
}

}  // namespace

TEST(OpenAiChatRequest, ConversationWithToolUseHasTheChatCompletionsShape) {
  const json body = build_chat_body(tool_conversation(), {"llama3.1:8b", true, "max_tokens"});
  EXPECT_EQ(body["model"], "llama3.1:8b");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"], (json{{"include_usage", true}}));
  EXPECT_EQ(body["max_tokens"], 300);
  EXPECT_FALSE(body.contains("max_completion_tokens"));
  EXPECT_FALSE(body.contains("temperature"));
  const json expected_messages = json::parse(R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What time is it, and look up x?"},
    {"role": "assistant", "content": "Checking.", "tool_calls": [
      {"id": "call_a", "type": "function", "function": {"name": "current_time", "arguments": "{\"utc_offset\":\"+02:00\"}"}},
      {"id": "call_b", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "call_a", "content": "2026-01-01T02:00:00+02:00"},
    {"role": "tool", "tool_call_id": "call_b", "content": "Error: no such thing"},
    {"role": "assistant", "content": "It is 2 am."},
    {"role": "user", "content": "Thanks.\n\nBye."}])");
  EXPECT_EQ(body["messages"], expected_messages);
  const json expected_tools = json::parse(R"([
    {"type": "function", "function": {"name": "current_time", "description": "The current time",
      "parameters": {"type": "object", "properties": {"utc_offset": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "lookup", "description": "Look something up",
      "parameters": {"type": "object", "properties": {}}}}])");
  EXPECT_EQ(body["tools"], expected_tools);
  EXPECT_EQ(fakes::check_chat_request(body).value_or(""), "");
}

TEST(OpenAiChatRequest, ToolCallsWithoutTextSendNullContent) {
  ModelRequest r;
  r.messages = {{"user", {text("time?")}},
                {"assistant", {tool_use("call_1", "current_time", nullptr)}},
                {"user", {tool_result("call_1", "now")}}};
  const json body = build_chat_body(r, {"m", true, "max_tokens"});
  ASSERT_EQ(body["messages"].size(), 3u);
  EXPECT_TRUE(body["messages"][1]["content"].is_null());
  EXPECT_EQ(body["messages"][1]["tool_calls"][0]["function"]["arguments"], "{}");
  EXPECT_EQ(body["messages"][2],
            (json{{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "now"}}));
  EXPECT_EQ(fakes::check_chat_request(body).value_or(""), "");
}

TEST(OpenAiChatRequest, NonStreamingRequestHasNoStreamOptionsAndTheChosenTokenField) {
  ModelRequest r;
  r.messages = {{"user", {text("hi")}}};
  r.max_tokens = 64;
  r.temperature = 0.25;
  const json body = build_chat_body(r, {"gpt-5-mini", false, "max_completion_tokens"});
  EXPECT_EQ(body["stream"], false);
  EXPECT_FALSE(body.contains("stream_options"));
  EXPECT_EQ(body["max_completion_tokens"], 64);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.25);
  EXPECT_FALSE(body.contains("tools"));  // an empty tools array is refused by OpenAI
  EXPECT_FALSE(body["messages"][0].contains("system"));
  EXPECT_EQ(body["messages"].size(), 1u);  // no empty system message
  EXPECT_EQ(fakes::check_chat_request(body).value_or(""), "");
}

TEST(OpenAiChatRequest, EmptyAssistantMessagesAreLeftOut) {
  ModelRequest r;
  ContentBlock reasoning;
  reasoning.kind = ContentBlock::Kind::kReasoning;
  reasoning.text = "hmm";
  r.messages = {{"user", {text("a")}}, {"assistant", {reasoning}}, {"user", {text("b")}}};
  const json body = build_chat_body(r, {"m", true, "max_tokens"});
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][1]["content"], "b");
}

TEST(FakeOpenAiChecks, RefusesAToolMessageThatAnswersNoToolCall) {
  const json orphan = json::parse(R"({"model": "m", "messages": [
    {"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "call_9", "content": "r"}]})");
  ASSERT_TRUE(fakes::check_chat_request(orphan));
  EXPECT_NE(fakes::check_chat_request(orphan)->find("call_9"), std::string::npos);
  const json unanswered = json::parse(R"({"model": "m", "messages": [
    {"role": "user", "content": "x"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "f", "arguments": "{}"}}]},
    {"role": "user", "content": "y"}]})");
  ASSERT_TRUE(fakes::check_chat_request(unanswered));
  EXPECT_NE(fakes::check_chat_request(unanswered)->find("call_1"), std::string::npos);
  const json object_arguments = json::parse(R"({"model": "m", "messages": [
    {"role": "user", "content": "x"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "f", "arguments": {}}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "r"}]})");
  ASSERT_TRUE(fakes::check_chat_request(object_arguments));
  EXPECT_NE(fakes::check_chat_request(object_arguments)->find("arguments"), std::string::npos);
  const json options_without_stream =
      json::parse(R"({"model": "m", "stream": false, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "x"}]})");
  EXPECT_TRUE(fakes::check_chat_request(options_without_stream));
}
