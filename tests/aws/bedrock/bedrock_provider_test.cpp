// The Bedrock provider against the fake Bedrock over real sockets: streaming, tool use, every
// chunking, retries on 429, mid-stream failures, stalls, cancellation, wrong credentials.
#include "model/bedrock_provider.h"

#include <gtest/gtest.h>

#include <thread>

#include "fake_bedrock.h"

using namespace agent::model;
using namespace std::chrono_literals;

namespace {

constexpr const char* kModel = "anthropic.claude-3-5-sonnet-20240620-v1:0";

fakes::FakeBedrockOptions fake_options(std::chrono::milliseconds clock_offset) {
  fakes::FakeBedrockOptions o;
  o.clock_offset = clock_offset;
  return o;
}

struct Harness {
  fakes::FakeBedrock fake;
  std::vector<std::chrono::milliseconds> sleeps;
  std::shared_ptr<shared::aws::RetryStrategy> retry;
  std::unique_ptr<ModelProvider> provider;

  explicit Harness(const std::string& secret = "fake-bedrock-secret", bool streaming = true,
                   std::chrono::milliseconds stall = 10s,
                   std::chrono::milliseconds service_clock_offset = 0ms)
      : fake(fake_options(service_clock_offset)) {
    fake.start();
    BedrockSettings s;
    s.model_id = kModel;
    s.streaming = streaming;
    s.stall_timeout = stall;
    s.aws.region = "us-east-1";
    s.aws.endpoint_urls["bedrock-runtime"] = fake.url();
    retry = std::make_shared<shared::aws::RetryStrategy>(
        shared::aws::RetrySettings{}, [this](std::chrono::milliseconds d) { sleeps.push_back(d); },
        [] { return 0.5; });
    provider =
        make_bedrock_provider(s,
                              shared::aws::make_static_credentials(
                                  {"AKIDFAKEBEDROCK", secret, "session-token", std::nullopt}),
                              retry);
  }

  std::vector<ModelEvent> run(const ModelRequest& request) {
    std::vector<ModelEvent> events;
    std::atomic<bool> cancelled{false};
    provider->stream(
        request, [&](const ModelEvent& e) { events.push_back(e); }, cancelled);
    return events;
  }
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
    if (e.kind == ModelEvent::Kind::kTextDelta) s += e.text;
  return s;
}

const ModelEvent* find(const std::vector<ModelEvent>& events, ModelEvent::Kind kind) {
  for (const auto& e : events)
    if (e.kind == kind) return &e;
  return nullptr;
}

}  // namespace

TEST(BedrockProvider, StreamsTheDefaultAnswerWithStopAndUsage) {
  Harness h;
  auto events = h.run(ask("hello there"));
  EXPECT_EQ(text_of(events), "Hello from the fake Bedrock model. You said: hello there");
  ASSERT_TRUE(find(events, ModelEvent::Kind::kStop));
  EXPECT_EQ(find(events, ModelEvent::Kind::kStop)->stop_reason, "end_turn");
  ASSERT_TRUE(find(events, ModelEvent::Kind::kUsage));
  EXPECT_EQ(find(events, ModelEvent::Kind::kUsage)->input_tokens, 12);
  EXPECT_EQ(find(events, ModelEvent::Kind::kUsage)->latency_ms, 42);
  auto requests = h.fake.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["model_id"], kModel);
  EXPECT_EQ(requests[0]["path"],
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream");
}

TEST(BedrockProvider, EveryChunkingGivesTheSameEvents) {
  for (const std::string chunking : {"byte", "whole", "frame", "7"}) {
    Harness h;
    h.fake.add_script(nlohmann::json::array({{{"kind", "tool_use"},
                                              {"text", "Sure – één moment."},
                                              {"name", "lookup"},
                                              {"input", {{"q", "x y"}, {"n", {1, 2}}}},
                                              {"chunking", chunking},
                                              {"delay_ms", 0}}}));
    auto events = h.run(ask("go"));
    EXPECT_EQ(text_of(events), "Sure – één moment.") << chunking;
    std::string input;
    for (const auto& e : events)
      if (e.kind == ModelEvent::Kind::kToolUseInputDelta) input += e.text;
    EXPECT_EQ(nlohmann::json::parse(input), (nlohmann::json{{"q", "x y"}, {"n", {1, 2}}}))
        << chunking;
    ASSERT_TRUE(find(events, ModelEvent::Kind::kToolUseStart)) << chunking;
    EXPECT_EQ(find(events, ModelEvent::Kind::kToolUseStart)->tool_name, "lookup");
    ASSERT_TRUE(find(events, ModelEvent::Kind::kToolUseStop));
    EXPECT_EQ(find(events, ModelEvent::Kind::kStop)->stop_reason, "tool_use");
  }
}

TEST(BedrockProvider, AsksForCurrentTimeThenSendsTheToolResultBack) {
  Harness h;
  ModelRequest r = ask("what time is it?");
  r.system_prompt = "You are terse.";
  r.tools = {{"current_time",
              "The current time",
              {{"type", "object"}, {"properties", nlohmann::json::object()}}}};
  auto first = h.run(r);
  const ModelEvent* start = find(first, ModelEvent::Kind::kToolUseStart);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->tool_name, "current_time");
  EXPECT_EQ(find(first, ModelEvent::Kind::kStop)->stop_reason, "tool_use");

  ContentBlock use;
  use.kind = ContentBlock::Kind::kToolUse;
  use.tool_use_id = start->tool_use_id;
  use.tool_name = "current_time";
  use.tool_input = nlohmann::json::object();
  ContentBlock result;
  result.kind = ContentBlock::Kind::kToolResult;
  result.tool_use_id = start->tool_use_id;
  result.tool_output = "2026-01-01T00:00:00Z";
  r.messages.push_back({"assistant", {use}});
  r.messages.push_back({"user", {result}});
  auto second = h.run(r);
  EXPECT_EQ(text_of(second), "The tool returned: 2026-01-01T00:00:00Z");

  auto requests = h.fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  const auto& body = requests[1]["body"];
  EXPECT_EQ(body["system"][0]["text"], "You are terse.");
  EXPECT_EQ(body["toolConfig"]["tools"][0]["toolSpec"]["name"], "current_time");
  EXPECT_EQ(body["messages"][2]["content"][0]["toolResult"]["toolUseId"], start->tool_use_id);
}

TEST(BedrockProvider, RetriesA429ThrottleThenStreams) {
  Harness h;
  h.fake.add_script(
      nlohmann::json::parse(R"([{"kind":"error","status":429,"error_type":"ThrottlingException"},
                                              {"kind":"text","text":"after the throttle"}])"));
  auto events = h.run(ask("x"));
  EXPECT_EQ(text_of(events), "after the throttle");
  EXPECT_EQ(h.fake.requests().size(), 2u);
  ASSERT_EQ(h.sleeps.size(), 1u);
  EXPECT_EQ(h.sleeps[0], 500ms);  // full jitter with random 0.5 of the first 1 s step
}

TEST(BedrockProvider, ASuccessAfterAThrottleRefundsWhatTheRetryTookFromTheQuota) {
  Harness h;
  const int full = h.retry->settings().quota_capacity;
  for (int call = 0; call < 3; ++call) {
    h.fake.add_script(
        nlohmann::json::parse(R"([{"kind":"error","status":429,"error_type":"ThrottlingException"},
                                                {"kind":"text","text":"ok"}])"));
    EXPECT_EQ(text_of(h.run(ask("x"))), "ok");
    // The retry cost 5 tokens; the success gives those 5 back (not the 1 of a first-try success).
    EXPECT_EQ(h.retry->quota_available(), full) << "after call " << call;
  }
}

TEST(BedrockProvider, AServiceClockAnHourAheadIsLearnedFromDateAndTheRefusedCallRetried) {
  Harness h("fake-bedrock-secret", true, 10s, 1h);
  // The first signature is an hour off: 403 InvalidSignatureException with the fake's Date. The
  // provider takes the offset from it and signs the retry with the service's time.
  EXPECT_EQ(text_of(h.run(ask("hello"))), "Hello from the fake Bedrock model. You said: hello");
  EXPECT_EQ(h.fake.requests().size(), 1u);  // the fake logs only calls whose signature passed
  EXPECT_EQ(h.sleeps.size(), 1u);
  // Later calls use the learned offset at once.
  EXPECT_EQ(text_of(h.run(ask("again"))), "Hello from the fake Bedrock model. You said: again");
  EXPECT_EQ(h.fake.requests().size(), 2u);
  EXPECT_EQ(h.sleeps.size(), 1u);
}

TEST(BedrockProvider, AWrongSignatureIsNotMistakenForClockSkew) {
  // Same Date as ours, wrong key: nothing to correct, so no retry.
  Harness h("not-the-secret");
  EXPECT_THROW(h.run(ask("x")), ModelError);
  EXPECT_TRUE(h.sleeps.empty());
}

TEST(BedrockProvider, PersistentThrottlingIsAClearRetryableError) {
  Harness h;
  h.fake.add_script(nlohmann::json::parse(
      R"([{"kind":"error","status":429,"error_type":"ThrottlingException","message":"Too many requests"},
     {"kind":"error","status":429,"error_type":"ThrottlingException","message":"Too many requests"},
     {"kind":"error","status":429,"error_type":"ThrottlingException","message":"Too many requests"},
     {"kind":"text","text":"never reached"}])"));
  try {
    h.run(ask("x"));
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "throttled");
    EXPECT_TRUE(e.retryable());
    EXPECT_NE(std::string(e.what()).find("Too many requests"), std::string::npos);
  }
  EXPECT_EQ(h.fake.requests().size(), 3u);
  EXPECT_EQ(h.sleeps.size(), 2u);
}

TEST(BedrockProvider, ValidationErrorIsNotRetried) {
  Harness h;
  h.fake.add_script(nlohmann::json::parse(
      R"([{"kind":"error","status":400,"error_type":"ValidationException","message":"The model returned the following errors: bad"}])"));
  try {
    h.run(ask("x"));
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "validation");
    EXPECT_FALSE(e.retryable());
  }
  EXPECT_EQ(h.fake.requests().size(), 1u);
}

TEST(BedrockProvider, MidStreamExceptionKeepsWhatCameAndFailsTheTurn) {
  Harness h;
  h.fake.add_script(nlohmann::json::parse(
      R"([{"kind":"exception_mid_stream","text":"partial answer","exception":"modelStreamErrorException","message":"The model crashed"}])"));
  std::vector<ModelEvent> events;
  std::atomic<bool> cancelled{false};
  try {
    h.provider->stream(
        ask("x"), [&](const ModelEvent& e) { events.push_back(e); }, cancelled);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "model_error");
    EXPECT_NE(std::string(e.what()).find("The model crashed"), std::string::npos);
  }
  EXPECT_EQ(text_of(events), "partial answer");
  EXPECT_EQ(h.fake.requests().size(), 1u);  // output was already streamed: no silent retry
}

TEST(BedrockProvider, InStreamThrottlingExceptionIsTyped) {
  Harness h;
  h.fake.add_script(nlohmann::json::parse(
      R"([{"kind":"exception_mid_stream","text":"a","exception":"throttlingException","message":"slow down"}])"));
  try {
    h.run(ask("x"));
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "throttled");
    EXPECT_TRUE(e.retryable());
  }
}

TEST(BedrockProvider, ConnectionCutInsideAFrameIsAnError) {
  Harness h;
  h.fake.add_script(nlohmann::json::parse(R"([{"kind":"cut_mid_stream","text":"half"}])"));
  try {
    h.run(ask("x"));
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "unavailable");
  }
}

TEST(BedrockProvider, StalledStreamTimesOut) {
  Harness h("fake-bedrock-secret", true, 1s);
  h.fake.add_script(
      nlohmann::json::parse(R"([{"kind":"stall","text":"thinking","stall_ms":20000}])"));
  const auto t0 = std::chrono::steady_clock::now();
  try {
    h.run(ask("x"));
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "timeout");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(BedrockProvider, CancelStopsPromptlyEvenWhileTheModelIsSilent) {
  Harness h;
  h.fake.add_script(
      nlohmann::json::parse(R"([{"kind":"stall","text":"thinking","stall_ms":3000}])"));
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
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "cancelled");
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  canceller.join();
  EXPECT_LT(took, 1s);
  EXPECT_EQ(text_of(events), "thinking");
}

TEST(BedrockProvider, WrongSecretIsUnauthorizedAndNotRetried) {
  Harness h("not-the-secret");
  try {
    h.run(ask("x"));
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), "unauthorized");
    EXPECT_NE(std::string(e.what()).find("UnrecognizedClientException"), std::string::npos);
  }
  EXPECT_TRUE(h.sleeps.empty());
}

TEST(BedrockProvider, EveryStopReasonPassesThrough) {
  Harness h;
  for (const std::string reason : {"end_turn", "tool_use", "max_tokens", "stop_sequence",
                                   "guardrail_intervened", "content_filtered"}) {
    h.fake.add_script(
        nlohmann::json::array({{{"kind", "text"}, {"text", "t"}, {"stop_reason", reason}}}));
    auto events = h.run(ask("x"));
    ASSERT_TRUE(find(events, ModelEvent::Kind::kStop));
    EXPECT_EQ(find(events, ModelEvent::Kind::kStop)->stop_reason, reason);
  }
}

TEST(BedrockProvider, ReasoningIsStreamedApart) {
  Harness h;
  h.fake.add_script(
      nlohmann::json::parse(R"([{"kind":"text","text":"42","reasoning":"six times seven"}])"));
  auto events = h.run(ask("x"));
  ASSERT_TRUE(find(events, ModelEvent::Kind::kReasoningDelta));
  EXPECT_EQ(find(events, ModelEvent::Kind::kReasoningDelta)->text, "six times seven");
  EXPECT_EQ(text_of(events), "42");
  // The block's signature arrives too (after its text), for the follow-up request.
  bool signed_ = false;
  for (const auto& e : events)
    signed_ |=
        e.kind == ModelEvent::Kind::kReasoningDelta && e.reasoning_signature == "fake-signature";
  EXPECT_TRUE(signed_);
}

TEST(BedrockProvider, NonStreamingConverseGivesTheSameEvents) {
  Harness h("fake-bedrock-secret", false);
  h.fake.add_script(nlohmann::json::parse(
      R"([{"kind":"tool_use","text":"One sec.","name":"current_time","input":{"tz":"UTC"}}])"));
  auto events = h.run(ask("x"));
  EXPECT_EQ(text_of(events), "One sec.");
  EXPECT_EQ(find(events, ModelEvent::Kind::kToolUseStart)->tool_name, "current_time");
  EXPECT_EQ(find(events, ModelEvent::Kind::kStop)->stop_reason, "tool_use");
  EXPECT_EQ(h.fake.requests()[0]["path"],
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse");
}
