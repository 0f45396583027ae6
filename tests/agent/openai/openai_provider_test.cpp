// The openai provider against the fake OpenAI-compatible server over real sockets: every event
// kind and finish_reason, parallel tool calls, every chunking, retries on 429 and 5xx honouring
// Retry-After, no retry once output streamed, mid-stream errors, cuts, stalls, cancellation,
// the bearer key, and the request JSON the server received.
#include "model/openai_provider.h"

#include <gtest/gtest.h>

#include <thread>

#include "../../support/loopback_ports.h"
#include "fake_openai.h"

using namespace agent::model;
using namespace std::chrono_literals;
using nlohmann::json;
using Kind = ModelEvent::Kind;

namespace {

constexpr const char* kKey = "sk-fake-openai-key-0123";
constexpr const char* kModel = "llama3.1:8b";

struct HarnessOptions {
  std::string server_key = kKey;
  std::string client_key = kKey;
  bool streaming = true;
  std::chrono::milliseconds stall = 10s;
  int max_attempts = 3;
  std::string base_url;  // empty: the fake's
};

struct Harness {
  fakes::FakeOpenAi fake;
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<ModelProvider> provider;

  static fakes::FakeOpenAiOptions fake_options(const HarnessOptions& o) {
    fakes::FakeOpenAiOptions f;
    f.api_key = o.server_key;
    return f;
  }

  explicit Harness(const HarnessOptions& o = {}) : fake(fake_options(o)) {
    fake.start();
    OpenAiSettings s;
    s.base_url = o.base_url.empty() ? fake.base_url() : o.base_url;
    s.model = kModel;
    s.api_key = o.client_key;
    s.streaming = o.streaming;
    s.stall_timeout = o.stall;
    shared::aws::RetrySettings rs;
    rs.max_attempts = o.max_attempts;
    auto retry = std::make_shared<shared::aws::RetryStrategy>(
        rs, [this](std::chrono::milliseconds d) { sleeps.push_back(d); }, [] { return 0.5; });
    provider = make_openai_provider(s, retry);
  }

  std::vector<ModelEvent> run(const ModelRequest& request) {
    std::vector<ModelEvent> events;
    std::atomic<bool> cancelled{false};
    provider->stream(
        request, [&](const ModelEvent& e) { events.push_back(e); }, cancelled);
    return events;
  }

  ModelError failure(const ModelRequest& request, std::vector<ModelEvent>* events = nullptr) {
    std::vector<ModelEvent> local;
    std::atomic<bool> cancelled{false};
    try {
      provider->stream(
          request, [&](const ModelEvent& e) { (events ? *events : local).push_back(e); },
          cancelled);
    } catch (const ModelError& e) {
      return e;
    }
    ADD_FAILURE() << "the call succeeded";
    return ModelError("none", "none");
  }

  void script(const std::string& responses) { fake.add_script(json::parse(responses)); }
};

ModelRequest ask(const std::string& text) {
  ModelRequest r;
  ContentBlock b;
  b.text = text;
  r.messages = {{"user", {b}}};
  return r;
}

std::string text_of(const std::vector<ModelEvent>& events) {
  std::string s;
  for (const auto& e : events)
    if (e.kind == Kind::kTextDelta) s += e.text;
  return s;
}

std::vector<ModelEvent> of(const std::vector<ModelEvent>& events, Kind kind) {
  std::vector<ModelEvent> out;
  for (const auto& e : events)
    if (e.kind == kind) out.push_back(e);
  return out;
}

std::string input_of(const std::vector<ModelEvent>& events, const std::string& id) {
  std::string s;
  for (const auto& e : events)
    if (e.kind == Kind::kToolUseInputDelta && e.tool_use_id == id) s += e.text;
  return s;
}

}  // namespace

TEST(OpenAiProvider, StreamsTextReasoningStopAndUsageWithTheBearerKey) {
  Harness h;
  h.script(
      R"([{"kind":"text","text":"Hello there, friend.","reasoning":"be kind","usage":{"prompt_tokens":30,"completion_tokens":6}}])");
  auto events = h.run(ask("hi"));
  EXPECT_EQ(text_of(events), "Hello there, friend.");
  ASSERT_EQ(of(events, Kind::kReasoningDelta).size(), 1u);
  EXPECT_EQ(of(events, Kind::kReasoningDelta)[0].text, "be kind");
  ASSERT_EQ(of(events, Kind::kStop).size(), 1u);
  EXPECT_EQ(of(events, Kind::kStop)[0].stop_reason, "end_turn");
  ASSERT_EQ(of(events, Kind::kUsage).size(), 1u);
  EXPECT_EQ(of(events, Kind::kUsage)[0].input_tokens, 30);
  EXPECT_EQ(of(events, Kind::kUsage)[0].output_tokens, 6);
  EXPECT_EQ(events.back().kind, Kind::kUsage);
  const auto requests = h.fake.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["path"], "/v1/chat/completions");
  EXPECT_EQ(requests[0]["authorized"], true);
  EXPECT_EQ(requests[0]["body"]["model"], kModel);
  EXPECT_EQ(requests[0]["body"]["stream"], true);
  EXPECT_EQ(requests[0]["body"]["stream_options"]["include_usage"], true);
}

TEST(OpenAiProvider, ReasoningUnderTheReasoningFieldToo) {
  Harness h;
  h.script(
      R"([{"kind":"text","text":"42","reasoning":"six times seven","reasoning_field":"reasoning"}])");
  auto events = h.run(ask("x"));
  ASSERT_EQ(of(events, Kind::kReasoningDelta).size(), 2u);  // two 8-byte pieces
  EXPECT_EQ(of(events, Kind::kReasoningDelta)[0].text + of(events, Kind::kReasoningDelta)[1].text,
            "six times seven");
  EXPECT_EQ(text_of(events), "42");
}

TEST(OpenAiProvider, EveryFinishReasonMapsToAStopReason) {
  Harness h;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"stop", "end_turn"},
      {"length", "max_tokens"},
      {"content_filter", "content_filtered"},
      {"tool_calls", "tool_use"}};
  for (const auto& [finish, stop] : cases) {
    h.fake.add_script(json::array({{{"kind", "text"}, {"text", "t"}, {"finish_reason", finish}}}));
    auto events = h.run(ask("x"));
    ASSERT_EQ(of(events, Kind::kStop).size(), 1u) << finish;
    EXPECT_EQ(of(events, Kind::kStop)[0].stop_reason, stop) << finish;
  }
}

TEST(OpenAiProvider, AsksForCurrentTimeThenSendsTheToolResultBack) {
  Harness h;
  ModelRequest r = ask("what time is it?");
  r.system_prompt = "You are terse.";
  r.tools = {
      {"current_time", "The current time", {{"type", "object"}, {"properties", json::object()}}}};
  auto first = h.run(r);
  auto starts = of(first, Kind::kToolUseStart);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].tool_name, "current_time");
  EXPECT_EQ(text_of(first), "Let me check the time.");
  EXPECT_EQ(of(first, Kind::kStop)[0].stop_reason, "tool_use");
  EXPECT_EQ(of(first, Kind::kToolUseStop).size(), 1u);

  ContentBlock use;
  use.kind = ContentBlock::Kind::kToolUse;
  use.tool_use_id = starts[0].tool_use_id;
  use.tool_name = "current_time";
  use.tool_input = json::parse(input_of(first, starts[0].tool_use_id));
  ContentBlock result;
  result.kind = ContentBlock::Kind::kToolResult;
  result.tool_use_id = starts[0].tool_use_id;
  result.tool_output = "2026-01-01T00:00:00Z";
  ContentBlock said;
  said.text = "Let me check the time.";
  r.messages.push_back({"assistant", {said, use}});
  r.messages.push_back({"user", {result}});
  auto second = h.run(r);
  EXPECT_EQ(text_of(second), "The tool returned: 2026-01-01T00:00:00Z");

  const auto requests = h.fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  const json& body = requests[1]["body"];
  EXPECT_EQ(body["messages"][0], (json{{"role", "system"}, {"content", "You are terse."}}));
  EXPECT_EQ(body["messages"][1], (json{{"role", "user"}, {"content", "what time is it?"}}));
  EXPECT_EQ(body["messages"][2]["role"], "assistant");
  EXPECT_EQ(body["messages"][2]["content"], "Let me check the time.");
  EXPECT_EQ(body["messages"][2]["tool_calls"][0]["id"], starts[0].tool_use_id);
  EXPECT_EQ(body["messages"][2]["tool_calls"][0]["function"]["name"], "current_time");
  EXPECT_EQ(body["messages"][2]["tool_calls"][0]["function"]["arguments"], "{}");
  EXPECT_EQ(body["messages"][3], (json{{"role", "tool"},
                                       {"tool_call_id", starts[0].tool_use_id},
                                       {"content", "2026-01-01T00:00:00Z"}}));
  EXPECT_EQ(body["tools"][0]["type"], "function");
  EXPECT_EQ(body["tools"][0]["function"]["name"], "current_time");
  EXPECT_EQ(body["tools"][0]["function"]["parameters"]["type"], "object");
}

TEST(OpenAiProvider, TwoParallelToolCallsWithInterleavedArgumentFragments) {
  Harness h;
  h.script(R"([{"kind":"tool_calls","text":"Both at once.","interleave":true,"calls":[
      {"id":"call_tz","name":"current_time","arguments":{"utc_offset":"+05:30"}},
      {"id":"call_lk","name":"lookup","arguments":{"query":"été à Paris","limit":3}}]}])");
  auto events = h.run(ask("x"));
  auto starts = of(events, Kind::kToolUseStart);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0].tool_use_id, "call_tz");
  EXPECT_EQ(starts[1].tool_use_id, "call_lk");
  EXPECT_EQ(starts[1].tool_name, "lookup");
  EXPECT_EQ(json::parse(input_of(events, "call_tz")), (json{{"utc_offset", "+05:30"}}));
  EXPECT_EQ(json::parse(input_of(events, "call_lk")),
            (json{{"query", "été à Paris"}, {"limit", 3}}));
  EXPECT_GE(of(events, Kind::kToolUseInputDelta).size(), 6u);  // three fragments each
  ASSERT_EQ(of(events, Kind::kToolUseStop).size(), 2u);
  EXPECT_EQ(of(events, Kind::kStop)[0].stop_reason, "tool_use");
}

TEST(OpenAiProvider, EveryChunkingGivesTheSameEvents) {
  for (const std::string chunking : {"byte", "whole", "event", "7"}) {
    for (const bool crlf : {false, true}) {
      Harness h;
      h.fake.add_script(
          json::array({{{"kind", "tool_calls"},
                        {"text", "Sure – één moment."},
                        {"chunking", chunking},
                        {"crlf", crlf},
                        {"delay_ms", 0},
                        {"calls", json::array({{{"id", "call_1"},
                                                {"name", "lookup"},
                                                {"arguments", {{"q", "x y"}, {"n", {1, 2}}}}},
                                               {{"id", "call_2"},
                                                {"name", "current_time"},
                                                {"arguments", json::object()}}})}}}));
      auto events = h.run(ask("go"));
      const std::string label = chunking + (crlf ? " crlf" : "");
      EXPECT_EQ(text_of(events), "Sure – één moment.") << label;
      EXPECT_EQ(json::parse(input_of(events, "call_1")), (json{{"q", "x y"}, {"n", {1, 2}}}))
          << label;
      EXPECT_EQ(input_of(events, "call_2"), "{}") << label;
      EXPECT_EQ(of(events, Kind::kToolUseStart).size(), 2u) << label;
      EXPECT_EQ(of(events, Kind::kToolUseStop).size(), 2u) << label;
      ASSERT_EQ(of(events, Kind::kStop).size(), 1u) << label;
      EXPECT_EQ(of(events, Kind::kStop)[0].stop_reason, "tool_use") << label;
      EXPECT_EQ(of(events, Kind::kUsage).size(), 1u) << label;
    }
  }
}

TEST(OpenAiProvider, AStreamWithoutDoneOrUsageIsComplete) {
  Harness h;
  h.script(R"([{"kind":"text","text":"no done here","done":false,"usage":null}])");
  auto events = h.run(ask("x"));
  EXPECT_EQ(text_of(events), "no done here");
  EXPECT_EQ(of(events, Kind::kStop).size(), 1u);
  EXPECT_TRUE(of(events, Kind::kUsage).empty());
}

TEST(OpenAiProvider, Retries429HonouringRetryAfterThenStreams) {
  Harness h;
  h.script(R"([{"kind":"error","status":429,"message":"Rate limit reached","retry_after":"2"},
               {"kind":"text","text":"after the throttle"}])");
  auto events = h.run(ask("x"));
  EXPECT_EQ(text_of(events), "after the throttle");
  EXPECT_EQ(h.fake.requests().size(), 2u);
  ASSERT_EQ(h.sleeps.size(), 1u);
  EXPECT_EQ(h.sleeps[0], 2000ms);  // the server's 2 s, longer than the 500 ms backoff
}

TEST(OpenAiProvider, RetryAfterMsAndBackoffWhicheverIsLonger) {
  Harness h;
  h.script(
      R"([{"kind":"error","status":429,"retry_after_ms":"120"},{"kind":"error","status":503,"message":"loading"},
               {"kind":"text","text":"ok"}])");
  EXPECT_EQ(text_of(h.run(ask("x"))), "ok");
  ASSERT_EQ(h.sleeps.size(), 2u);
  EXPECT_EQ(h.sleeps[0], 500ms);   // backoff (random 0.5 of 1 s) beats the asked 120 ms
  EXPECT_EQ(h.sleeps[1], 1000ms);  // 0.5 of 2 s after the second attempt
  EXPECT_EQ(h.fake.requests().size(), 3u);
}

TEST(OpenAiProvider, ARetryAfterLongerThanTheBackoffCapIsReturnedAtOnce) {
  Harness h;
  h.script(
      R"([{"kind":"error","status":429,"message":"Quota exceeded","retry_after":"3600"},{"kind":"text","text":"never"}])");
  const ModelError e = h.failure(ask("x"));
  EXPECT_EQ(e.code(), "throttled");
  EXPECT_TRUE(e.retryable());
  EXPECT_NE(std::string(e.what()).find("Quota exceeded"), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("3600 s"), std::string::npos);
  EXPECT_TRUE(h.sleeps.empty());
  EXPECT_EQ(h.fake.requests().size(), 1u);
}

TEST(OpenAiProvider, PersistentServerErrorsEndAfterMaxAttempts) {
  Harness h;
  h.script(
      R"([{"kind":"error","status":500,"message":"upstream died"},{"kind":"error","status":500,"message":"upstream died"},
               {"kind":"error","status":500,"message":"upstream died"},{"kind":"text","text":"never"}])");
  const ModelError e = h.failure(ask("x"));
  EXPECT_EQ(e.code(), "unavailable");
  EXPECT_TRUE(e.retryable());
  EXPECT_NE(std::string(e.what()).find("500: upstream died"), std::string::npos);
  EXPECT_EQ(h.fake.requests().size(), 3u);
  EXPECT_EQ(h.sleeps.size(), 2u);
}

TEST(OpenAiProvider, ValidationErrorCarriesTheServersMessageAndIsNotRetried) {
  Harness h;
  h.script(R"([{"kind":"error","status":400,"type":"invalid_request_error",
                "message":"This model's maximum context length is 8192 tokens."}])");
  const ModelError e = h.failure(ask("x"));
  EXPECT_EQ(e.code(), "validation");
  EXPECT_FALSE(e.retryable());
  EXPECT_EQ(std::string(e.what()),
            "the model server answered 400: This model's maximum context length is 8192 tokens.");
  EXPECT_EQ(h.fake.requests().size(), 1u);
}

TEST(OpenAiProvider, UnknownModelIsValidation) {
  Harness h;
  // What Ollama answers for a model it has not pulled.
  h.script(
      R"([{"kind":"error","status":404,"type":"api_error","message":"model \"llama9\" not found, try pulling it first"}])");
  const ModelError e = h.failure(ask("x"));
  EXPECT_EQ(e.code(), "validation");
  EXPECT_NE(std::string(e.what()).find("model \"llama9\" not found"), std::string::npos);
  EXPECT_TRUE(h.sleeps.empty());
}

TEST(OpenAiProvider, ErrorInsideTheStreamKeepsWhatCameAndIsNotRetried) {
  Harness h;
  h.script(
      R"([{"kind":"error_mid_stream","text":"partial answer","message":"The model crashed"}])");
  std::vector<ModelEvent> events;
  const ModelError e = h.failure(ask("x"), &events);
  EXPECT_EQ(e.code(), "model_error");
  EXPECT_NE(std::string(e.what()).find("The model crashed"), std::string::npos);
  EXPECT_EQ(text_of(events), "partial answer");
  EXPECT_EQ(h.fake.requests().size(), 1u);  // output was already streamed: no silent retry
  EXPECT_TRUE(h.sleeps.empty());
}

TEST(OpenAiProvider, ConnectionCutMidStreamIsUnavailableAndNotRetried) {
  Harness h;
  h.script(R"([{"kind":"cut_mid_stream","text":"half of it"}])");
  std::vector<ModelEvent> events;
  const ModelError e = h.failure(ask("x"), &events);
  EXPECT_EQ(e.code(), "unavailable");
  EXPECT_EQ(text_of(events), "half of it");
  EXPECT_EQ(h.fake.requests().size(), 1u);
}

TEST(OpenAiProvider, ConnectionRefusedIsUnavailableAfterRetries) {
  test_support::BoundLoopbackPort closed;
  HarnessOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/v1";
  Harness h(o);
  const ModelError e = h.failure(ask("x"));
  EXPECT_EQ(e.code(), "unavailable");
  EXPECT_TRUE(e.retryable());
  EXPECT_NE(std::string(e.what()).find("cannot reach the model server"), std::string::npos);
  EXPECT_EQ(h.sleeps.size(), 2u);  // three attempts
}

TEST(OpenAiProvider, StalledStreamTimesOut) {
  HarnessOptions o;
  o.stall = 1s;
  Harness h(o);
  h.script(R"([{"kind":"stall","text":"thinking","stall_ms":20000}])");
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<ModelEvent> events;
  const ModelError e = h.failure(ask("x"), &events);
  EXPECT_EQ(e.code(), "timeout");
  EXPECT_EQ(text_of(events), "thinking");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(OpenAiProvider, CancelStopsPromptlyEvenWhileTheModelIsSilent) {
  Harness h;
  h.script(R"([{"kind":"stall","text":"thinking","stall_ms":5000}])");
  std::atomic<bool> cancelled{false};
  std::vector<ModelEvent> events;
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    cancelled = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  try {
    h.provider->stream(
        ask("x"), [&](const ModelEvent& e) { events.push_back(e); }, cancelled);
    ADD_FAILURE() << "the call succeeded";
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "cancelled");
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  canceller.join();
  EXPECT_LT(took, 1s);
  EXPECT_EQ(text_of(events), "thinking");
}

TEST(OpenAiProvider, WrongOrMissingKeyIsUnauthorizedAndNotRetried) {
  for (const std::string client_key : {"sk-not-the-key", ""}) {
    HarnessOptions o;
    o.client_key = client_key;
    Harness h(o);
    const ModelError e = h.failure(ask("x"));
    EXPECT_EQ(e.code(), "unauthorized") << client_key;
    EXPECT_FALSE(e.retryable());
    EXPECT_NE(std::string(e.what()).find("401"), std::string::npos);
    if (!client_key.empty()) {
      EXPECT_EQ(std::string(e.what()).find(client_key), std::string::npos);
    }
    EXPECT_TRUE(h.sleeps.empty());
  }
}

TEST(OpenAiProvider, NoKeyConfiguredSendsNoAuthorization) {
  HarnessOptions o;
  o.server_key = "";
  o.client_key = "";
  Harness h(o);
  EXPECT_EQ(text_of(h.run(ask("hello"))), "Hello from the fake OpenAI model. You said: hello");
  EXPECT_EQ(h.fake.requests()[0]["authorized"], false);
}

TEST(OpenAiProvider, NonStreamingAnswerGivesTheSameEvents) {
  HarnessOptions o;
  o.streaming = false;
  Harness h(o);
  h.script(R"([{"kind":"tool_calls","text":"One sec.","reasoning":"hm","calls":[
      {"id":"call_a","name":"current_time","arguments":{"utc_offset":"Z"}},{"id":"call_b","name":"lookup","arguments":{}}]}])");
  auto events = h.run(ask("x"));
  EXPECT_EQ(text_of(events), "One sec.");
  EXPECT_EQ(of(events, Kind::kReasoningDelta).at(0).text, "hm");
  ASSERT_EQ(of(events, Kind::kToolUseStart).size(), 2u);
  EXPECT_EQ(json::parse(input_of(events, "call_a")), (json{{"utc_offset", "Z"}}));
  EXPECT_EQ(of(events, Kind::kStop).at(0).stop_reason, "tool_use");
  EXPECT_EQ(of(events, Kind::kUsage).at(0).input_tokens, 21);
  const json body = h.fake.requests()[0]["body"];
  EXPECT_EQ(body["stream"], false);
  EXPECT_FALSE(body.contains("stream_options"));
}
