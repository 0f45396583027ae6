// ChatStreamTranslator and the error mapping, fed the chunk shapes real servers send (OpenAI,
// Ollama old and new, vLLM, llama.cpp), without sockets.
#include "model/openai_stream_translator.h"

#include <gtest/gtest.h>

using namespace agent::model;
using nlohmann::json;
using Kind = ModelEvent::Kind;

namespace {

struct Recorder {
  std::vector<ModelEvent> events;
  ChatStreamTranslator translator{[this](const ModelEvent& e) { events.push_back(e); },
                                  "sk-secret-key"};

  void chunks(const std::vector<std::string>& payloads) {
    for (const auto& p : payloads) translator.on_event({"", p});
  }
  std::vector<ModelEvent> of(Kind kind) const {
    std::vector<ModelEvent> out;
    for (const auto& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
  std::string input_of(const std::string& id) const {
    std::string s;
    for (const auto& e : events)
      if (e.kind == Kind::kToolUseInputDelta && e.tool_use_id == id) s += e.text;
    return s;
  }
};

std::string delta(const std::string& d, const std::string& finish = "null") {
  return R"({"choices":[{"index":0,"delta":)" + d + R"(,"finish_reason":)" + finish + "}]}";
}

}  // namespace

TEST(OpenAiStreamTranslator, TextReasoningStopAndUsageInOrder) {
  Recorder r;
  r.chunks(
      {delta(R"({"role":"assistant","content":""})"), delta(R"({"reasoning_content":"think"})"),
       delta(R"({"content":"Hel"})"), delta(R"({"content":"lo"})"), delta("{}", R"("stop")"),
       R"({"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}})",
       "[DONE]"});
  ASSERT_EQ(r.events.size(), 5u);
  EXPECT_EQ(r.events[0].kind, Kind::kReasoningDelta);
  EXPECT_EQ(r.events[0].text, "think");
  EXPECT_EQ(r.events[1].text, "Hel");
  EXPECT_EQ(r.events[2].text, "lo");
  EXPECT_EQ(r.events[3].kind, Kind::kStop);
  EXPECT_EQ(r.events[3].stop_reason, "end_turn");
  EXPECT_EQ(r.events[4].kind, Kind::kUsage);
  EXPECT_EQ(r.events[4].input_tokens, 11);
  EXPECT_EQ(r.events[4].output_tokens, 3);
  EXPECT_TRUE(r.translator.ended());
}

TEST(OpenAiStreamTranslator, ReasoningSentUnderBothNamesCountsOnce) {
  Recorder r;
  r.chunks({delta(R"({"reasoning":"abc","reasoning_content":"abc"})"),
            delta(R"({"reasoning":"def"})", R"("stop")")});
  ASSERT_EQ(r.of(Kind::kReasoningDelta).size(), 2u);
  EXPECT_EQ(r.of(Kind::kReasoningDelta)[0].text, "abc");
  EXPECT_EQ(r.of(Kind::kReasoningDelta)[1].text, "def");
}

TEST(OpenAiStreamTranslator, FinishReasonsMapToStopReasons) {
  EXPECT_EQ(stop_reason_for("stop", false), "end_turn");
  EXPECT_EQ(stop_reason_for("stop", true), "tool_use");
  EXPECT_EQ(stop_reason_for("tool_calls", true), "tool_use");
  EXPECT_EQ(stop_reason_for("function_call", false), "tool_use");
  EXPECT_EQ(stop_reason_for("length", false), "max_tokens");
  EXPECT_EQ(stop_reason_for("content_filter", false), "content_filtered");
  EXPECT_EQ(stop_reason_for("abort", false), "abort");
}

TEST(OpenAiStreamTranslator, ParallelToolCallsByIndexWithArgumentsInFragments) {
  Recorder r;
  r.chunks(
      {delta(
           R"({"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"current_time","arguments":""}}]})"),
       delta(
           R"({"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"lookup","arguments":"{\"q\""}}]})"),
       delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"utc_"}}]})"),
       delta(R"({"tool_calls":[{"index":1,"function":{"arguments":":\"x\"}"}}]})"),
       delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"offset\":\"Z\"}"}}]})"),
       delta("{}", R"("tool_calls")"), "[DONE]"});
  auto starts = r.of(Kind::kToolUseStart);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0].tool_use_id, "call_a");
  EXPECT_EQ(starts[0].tool_name, "current_time");
  EXPECT_EQ(starts[1].tool_use_id, "call_b");
  EXPECT_EQ(json::parse(r.input_of("call_a")), (json{{"utc_offset", "Z"}}));
  EXPECT_EQ(json::parse(r.input_of("call_b")), (json{{"q", "x"}}));
  auto stops = r.of(Kind::kToolUseStop);
  ASSERT_EQ(stops.size(), 2u);
  EXPECT_EQ(stops[0].tool_use_id, "call_a");
  EXPECT_EQ(stops[1].tool_use_id, "call_b");
  EXPECT_EQ(r.of(Kind::kStop).at(0).stop_reason, "tool_use");
  // Every tool event comes before the stop.
  EXPECT_EQ(r.events.back().kind, Kind::kStop);
}

TEST(OpenAiStreamTranslator, OllamaStyleCallsWithoutIndexOrAllIndexZeroStayApart) {
  Recorder no_index;
  no_index.chunks(
      {delta(R"({"tool_calls":[{"id":"call_1","function":{"name":"a","arguments":{"x":1}}}]})"),
       delta(R"({"tool_calls":[{"id":"call_2","function":{"name":"b","arguments":"{}"}}]})"),
       delta(R"({"content":""})", R"("stop")")});
  ASSERT_EQ(no_index.of(Kind::kToolUseStart).size(), 2u);
  EXPECT_EQ(json::parse(no_index.input_of("call_1")), (json{{"x", 1}}));  // arguments as an object
  EXPECT_EQ(no_index.input_of("call_2"), "{}");
  EXPECT_EQ(no_index.of(Kind::kStop).at(0).stop_reason, "tool_use");  // "stop" after tool calls

  Recorder all_zero;
  all_zero.chunks(
      {delta(
           R"({"tool_calls":[{"index":0,"id":"call_1","function":{"name":"a","arguments":"{}"}}]})"),
       delta(
           R"({"tool_calls":[{"index":0,"id":"call_2","function":{"name":"b","arguments":"{}"}}]})"),
       delta("{}", R"("tool_calls")")});
  auto starts = all_zero.of(Kind::kToolUseStart);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[1].tool_use_id, "call_2");
  EXPECT_EQ(starts[1].tool_name, "b");
}

TEST(OpenAiStreamTranslator, ACallWithoutAnIdGetsOneAndArgumentsBeforeTheNameAreKept) {
  Recorder r;
  r.chunks({delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]})"),
            delta(R"({"tool_calls":[{"index":0,"function":{"name":"f","arguments":"2}"}}]})"),
            delta("{}", R"("tool_calls")")});
  auto starts = r.of(Kind::kToolUseStart);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].tool_use_id.rfind("call_", 0), 0u);
  EXPECT_GT(starts[0].tool_use_id.size(), 10u);
  EXPECT_EQ(json::parse(r.input_of(starts[0].tool_use_id)), (json{{"a", 2}}));
}

TEST(OpenAiStreamTranslator, ACallThatNeverGetsANameIsAModelError) {
  Recorder r;
  try {
    r.chunks({delta(R"({"tool_calls":[{"index":0,"id":"c","function":{"arguments":"{}"}}]})"),
              delta("{}", R"("tool_calls")")});
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "model_error");
  }
}

TEST(OpenAiStreamTranslator, UsageIsGivenOnceAtTheEndWithTheLastCounts) {
  Recorder r;
  // vLLM's continuous usage: every chunk carries the running totals.
  r.chunks(
      {R"({"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":5,"completion_tokens":1}})",
       R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":2}})"});
  EXPECT_TRUE(r.of(Kind::kUsage).empty());
  r.translator.on_end();  // the body ended without [DONE]: accepted once finished
  ASSERT_EQ(r.of(Kind::kUsage).size(), 1u);
  EXPECT_EQ(r.of(Kind::kUsage)[0].output_tokens, 2);
  EXPECT_EQ(r.of(Kind::kStop).at(0).stop_reason, "max_tokens");
}

TEST(OpenAiStreamTranslator, EndBeforeAFinishReasonIsRetryableUnavailable) {
  Recorder r;
  r.chunks({delta(R"({"content":"par"})")});
  try {
    r.translator.on_event({"", "[DONE]"});
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "unavailable");
    EXPECT_TRUE(e.retryable());
  }
}

TEST(OpenAiStreamTranslator, ErrorObjectsInTheStreamAreModelErrorsWithoutTheSecret) {
  Recorder r;
  try {
    r.chunks({delta(R"({"content":"a"})"),
              R"({"error":{"message":"boom with sk-secret-key inside","type":"server_error"}})"});
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "model_error");
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("sk-secret-key"), std::string::npos);
  }
  Recorder llama;
  try {
    llama.translator.on_event(
        {"error", R"({"code":500,"message":"context overflow","type":"server_error"})"});
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "model_error");
    EXPECT_NE(std::string(e.what()).find("context overflow"), std::string::npos);
  }
  Recorder limited;
  try {
    limited.chunks({R"({"error":{"message":"slow down","type":"rate_limit_exceeded"}})"});
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "throttled");
    EXPECT_TRUE(e.retryable());
  }
}

TEST(OpenAiStreamTranslator, ANonJsonEventIsAModelError) {
  Recorder r;
  EXPECT_THROW(r.chunks({"{not json"}), ModelError);
}

TEST(OpenAiStreamTranslator, UnknownKeysAndOtherChoicesAreIgnored) {
  Recorder r;
  r.chunks(
      {R"({"x_vendor":{"a":1},"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine","audio":null},"logprobs":null}]})",
       delta("{}", R"("stop")")});
  ASSERT_EQ(r.of(Kind::kTextDelta).size(), 1u);
  EXPECT_EQ(r.of(Kind::kTextDelta)[0].text, "mine");
}

TEST(OpenAiErrors, HttpStatusesMapToCodes) {
  struct Case {
    long status;
    const char* code;
    bool retryable;
  };
  for (const Case c : {Case{401, "unauthorized", false}, Case{403, "unauthorized", false},
                       Case{429, "throttled", true}, Case{408, "timeout", true},
                       Case{500, "unavailable", true}, Case{503, "unavailable", true},
                       Case{400, "validation", false}, Case{404, "validation", false},
                       Case{422, "validation", false}, Case{418, "model_error", false}}) {
    const ModelError e = openai_http_error(c.status, "{}", "");
    EXPECT_EQ(e.code(), c.code) << c.status;
    EXPECT_EQ(e.retryable(), c.retryable) << c.status;
  }
}

TEST(OpenAiErrors, TheServersMessageIsKeptShortAndWithoutTheKey) {
  const ModelError openai = openai_http_error(
      401,
      R"({"error":{"message":"Incorrect API key provided: sk-live-123. You can find your key at\n  https://x.","type":"invalid_request_error"}})",
      "sk-live-123");
  EXPECT_EQ(std::string(openai.what()),
            "the model server answered 401: Incorrect API key provided: [redacted]. You can find "
            "your key at https://x.");
  const ModelError vllm = openai_http_error(
      404, R"({"object":"error","message":"The model `x` does not exist.","code":404})", "");
  EXPECT_NE(std::string(vllm.what()).find("The model `x` does not exist."), std::string::npos);
  const ModelError fastapi = openai_http_error(422, R"({"detail":"field required"})", "");
  EXPECT_NE(std::string(fastapi.what()).find("field required"), std::string::npos);
  const ModelError html = openai_http_error(502, "<html>" + std::string(5000, 'x') + "</html>", "");
  EXPECT_LT(std::string(html.what()).size(), 400u);
}

TEST(OpenAiNonStreaming, AChatCompletionGivesTheSameEvents) {
  std::vector<ModelEvent> events;
  translate_chat_completion(
      json::parse(R"({"choices":[{"index":0,"finish_reason":"tool_calls","message":{
      "role":"assistant","content":"One sec.","reasoning_content":"hm",
      "tool_calls":[{"id":"call_1","type":"function","function":{"name":"current_time","arguments":"{\"utc_offset\":\"Z\"}"}},
                    {"id":"call_2","type":"function","function":{"name":"lookup","arguments":"{}"}}]}}],
      "usage":{"prompt_tokens":7,"completion_tokens":4}})"),
      [&](const ModelEvent& e) { events.push_back(e); }, "");
  std::vector<Kind> kinds;
  for (const auto& e : events) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<Kind>{Kind::kReasoningDelta, Kind::kTextDelta, Kind::kToolUseStart,
                                      Kind::kToolUseInputDelta, Kind::kToolUseStart,
                                      Kind::kToolUseInputDelta, Kind::kToolUseStop,
                                      Kind::kToolUseStop, Kind::kStop, Kind::kUsage}));
  EXPECT_EQ(events[3].text, R"({"utc_offset":"Z"})");
  EXPECT_EQ(events[4].tool_use_id, "call_2");
  EXPECT_EQ(events[8].stop_reason, "tool_use");
  EXPECT_EQ(events[9].input_tokens, 7);
  EXPECT_THROW(translate_chat_completion(
                   json::parse(R"({"choices":[]})"), [](const ModelEvent&) {}, ""),
               ModelError);
}
