// The turn engine against a scripted model, a real SQLite store and a recording publisher.
#include "engine/turn_engine.h"

#include <gtest/gtest.h>

#include <thread>

#include "engine/conversation.h"
#include "fake_model.h"
#include "model/demo_provider.h"
#include "recording_publisher.h"
#include "store_under_test.h"
#include "tools/current_time_tool.h"

namespace agent::engine {
namespace {

using testing::emit_tool_use;
using testing::stop_event;
using testing::text_event;
using testing::wait_or_cancel;

class FailingTool : public tools::Tool {
 public:
  std::string name() const override { return "explode"; }
  std::string description() const override { return "always fails"; }
  nlohmann::json input_schema() const override { return {{"type", "object"}}; }
  tools::ToolResult run(const nlohmann::json&, std::chrono::steady_clock::time_point) override {
    throw std::runtime_error("boom");
  }
};

struct EngineFixture {
  std::unique_ptr<store::SessionStore> store = testing::make_store_under_test("sqlite");
  testing::RecordingPublisher publisher;
  shared::MetricsRegistry metrics;
  tools::ToolRegistry tools{tools::ToolLimits{std::chrono::milliseconds(500), 1024}};
  std::unique_ptr<model::ModelProvider> model;
  std::unique_ptr<TurnEngine> engine;
  std::string user = "alice";
  std::string session;

  explicit EngineFixture(std::unique_ptr<model::ModelProvider> m, TurnSettings settings = {})
      : model(std::move(m)) {
    tools.add(
        std::make_shared<tools::CurrentTimeTool>([] { return std::int64_t{1'700'000'000'000}; }));
    tools.add(std::make_shared<FailingTool>());
    if (settings.instance_id.empty()) settings.instance_id = "test-proc";
    settings.coalesce = std::chrono::milliseconds(30);
    engine = std::make_unique<TurnEngine>(settings, *store, *model, tools, publisher, metrics);
    session = store->create_session(user, "chat").id;
  }

  void wait_idle() {
    for (int i = 0; i < 1000 && engine->is_running(user, session); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_FALSE(engine->is_running(user, session));
  }
  std::vector<store::StoredMessage> messages() {
    return store->list_messages(user, session, 100, "").items;
  }
};

TEST(TurnEngine, DemoTurnIsPersistedAndPublishedInOrder) {
  EngineFixture f(
      std::make_unique<model::DemoProvider>(model::DemoSettings{std::chrono::milliseconds(1)}));
  const auto started = f.engine->start_turn(f.user, f.session, "Show me some code");
  f.wait_idle();
  const auto messages = f.messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].role, "user");
  EXPECT_EQ(message_text(messages[0].content), "Show me some code");
  EXPECT_EQ(messages[1].role, "assistant");
  EXPECT_EQ(messages[1].status, "complete");
  EXPECT_EQ(messages[1].stop_reason, "end_turn");
  EXPECT_EQ(message_text(messages[1].content), model::demo_answer("Show me some code"));
  EXPECT_GT(messages[1].output_tokens, 10);

  const auto updates = f.publisher.updates();
  ASSERT_GE(updates.size(), 4u);
  std::string streamed;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    EXPECT_EQ(updates[i]["topic"], "/users/alice/sessions/" + f.session);
    EXPECT_EQ(updates[i]["data"]["turn_id"], started.turn_id);
    EXPECT_EQ(updates[i]["data"]["seq"], static_cast<int>(i + 1));
    if (updates[i]["data"]["type"] == "text.delta")
      streamed += updates[i]["data"]["text"].get<std::string>();
  }
  EXPECT_EQ(updates.front()["data"]["type"], "turn.start");
  EXPECT_EQ(updates.back()["data"]["type"], "turn.done");
  EXPECT_EQ(updates.back()["data"]["stop_reason"], "end_turn");
  EXPECT_EQ(streamed, model::demo_answer("Show me some code"));
  EXPECT_EQ(f.publisher.data_of_type("usage").size(), 1u);
}

TEST(TurnEngine, AskingTheTimeRunsTheToolAndFeedsTheResultBack) {
  EngineFixture f(
      std::make_unique<model::DemoProvider>(model::DemoSettings{std::chrono::milliseconds(0)}));
  f.engine->start_turn(f.user, f.session, "What time is it?");
  f.wait_idle();
  const auto calls = f.publisher.data_of_type("tool.call");
  const auto results = f.publisher.data_of_type("tool.result");
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(calls[0]["name"], "current_time");
  EXPECT_EQ(results[0]["call_id"], calls[0]["call_id"]);
  EXPECT_EQ(results[0]["output"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(results[0]["is_error"], false);
  const auto assistant = f.messages().at(1);
  EXPECT_EQ(assistant.status, "complete");
  ASSERT_EQ(assistant.content.size(), 3u);  // text, tool call, text
  EXPECT_EQ(assistant.content[1]["type"], "tool_call");
  EXPECT_EQ(assistant.content[1]["output"], "2023-11-14T22:13:20.000Z");
  EXPECT_NE(message_text(assistant.content).find("2023-11-14T22:13:20.000Z"), std::string::npos);
}

TEST(TurnEngine, ASecondTurnInTheSameSessionIsRefusedWhileOneRuns) {
  EngineFixture f(
      std::make_unique<testing::ScriptedModel>([](auto&, auto& on_event, auto& cancelled, int) {
        on_event(text_event("working"));
        wait_or_cancel(cancelled, std::chrono::milliseconds(300));
        on_event(stop_event("end_turn"));
      }));
  f.engine->start_turn(f.user, f.session, "one");
  try {
    f.engine->start_turn(f.user, f.session, "two");
    FAIL() << "second turn was accepted";
  } catch (const TurnRefused& e) {
    EXPECT_EQ(e.reason(), TurnRefused::Reason::kTurnRunning);
  }
  f.wait_idle();
  EXPECT_NO_THROW(f.engine->start_turn(f.user, f.session, "three"));
  f.wait_idle();
  EXPECT_EQ(f.messages().size(), 4u);
}

TEST(TurnEngine, TheNextMessageRightAfterATurnCompletesIsAccepted) {
  EngineFixture f(
      std::make_unique<model::DemoProvider>(model::DemoSettings{std::chrono::milliseconds(0)}));
  for (int round = 0; round < 5; ++round) {
    f.engine->start_turn(f.user, f.session, "round " + std::to_string(round));
    // As a client does: poll the store until the assistant message is no longer running, then
    // send at once.
    for (int i = 0; i < 2000; ++i) {
      if (f.messages().back().status != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  f.wait_idle();
  EXPECT_EQ(f.messages().size(), 10u);
}

TEST(TurnEngine, CancelStopsTheStreamAndKeepsWhatWasProduced) {
  EngineFixture f(
      std::make_unique<testing::ScriptedModel>([](auto&, auto& on_event, auto& cancelled, int) {
        for (int i = 0; i < 1000; ++i) {
          on_event(text_event("word" + std::to_string(i) + " "));
          wait_or_cancel(cancelled, std::chrono::milliseconds(5));
        }
        on_event(stop_event("end_turn"));
      }));
  const auto started = f.engine->start_turn(f.user, f.session, "talk a lot");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(f.engine->cancel(f.user, f.session), started.turn_id);
  f.wait_idle();
  const auto assistant = f.messages().at(1);
  EXPECT_EQ(assistant.status, "cancelled");
  const auto text = message_text(assistant.content);
  EXPECT_EQ(text.rfind("word0 word1 ", 0), 0u) << text;
  EXPECT_EQ(text.find("word999"), std::string::npos);
  const auto done = f.publisher.data_of_type("turn.done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]["stop_reason"], "cancelled");
  EXPECT_EQ(f.engine->cancel(f.user, f.session), "");
}

TEST(TurnEngine, ATurnPastItsDeadlineEndsWithAnError) {
  TurnSettings settings;
  settings.deadline = std::chrono::milliseconds(200);
  EngineFixture f(
      std::make_unique<testing::ScriptedModel>([](auto&, auto& on_event, auto& cancelled, int) {
        on_event(text_event("slow"));
        wait_or_cancel(cancelled, std::chrono::seconds(5));
      }),
      settings);
  f.engine->start_turn(f.user, f.session, "hurry");
  f.wait_idle();
  const auto assistant = f.messages().at(1);
  EXPECT_EQ(assistant.status, "error");
  EXPECT_EQ(assistant.error_code, "deadline_exceeded");
  EXPECT_EQ(message_text(assistant.content), "slow");
  const auto errors = f.publisher.data_of_type("turn.error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["code"], "deadline_exceeded");
}

TEST(TurnEngine, AFailingToolIsAnErrorResultForTheModelNotAFailedTurn) {
  auto scripted = std::make_unique<testing::ScriptedModel>(
      [](const model::ModelRequest& request, auto& on_event, auto&, int call) {
        if (call == 0) {
          emit_tool_use(on_event, "c1", "explode", "{}");
          emit_tool_use(on_event, "c2", "no_such_tool", "{\"x\":1}");
          on_event(stop_event("tool_use"));
          return;
        }
        const auto& results = request.messages.back();
        on_event(text_event("results: " + std::to_string(results.content.size()) + " " +
                            (results.content[0].tool_is_error ? "error" : "ok")));
        on_event(stop_event("end_turn"));
      });
  auto* model = scripted.get();
  EngineFixture f(std::move(scripted));
  f.engine->start_turn(f.user, f.session, "try");
  f.wait_idle();
  const auto results = f.publisher.data_of_type("tool.result");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["is_error"], true);
  EXPECT_EQ(results[0]["output"], "tool failed: boom");
  EXPECT_EQ(results[1]["output"], "unknown tool: no_such_tool");
  const auto assistant = f.messages().at(1);
  EXPECT_EQ(assistant.status, "complete");
  EXPECT_EQ(message_text(assistant.content), "results: 2 error");
  // The second call saw: user text, assistant tool uses, user tool results.
  const auto second = model->requests().at(1);
  ASSERT_EQ(second.messages.size(), 3u);
  EXPECT_EQ(second.messages[1].role, "assistant");
  EXPECT_EQ(second.messages[1].content.size(), 2u);
  EXPECT_EQ(second.messages[1].content[1].tool_input, nlohmann::json({{"x", 1}}));
}

TEST(TurnEngine, TheToolCallLimitEndsALoopingTurn) {
  TurnSettings settings;
  settings.max_tool_calls = 3;
  EngineFixture f(
      std::make_unique<testing::ScriptedModel>([](auto&, auto& on_event, auto&, int call) {
        emit_tool_use(on_event, "c" + std::to_string(call), "current_time", "{}");
        on_event(stop_event("tool_use"));
      }),
      settings);
  f.engine->start_turn(f.user, f.session, "loop");
  f.wait_idle();
  EXPECT_EQ(f.publisher.data_of_type("tool.result").size(), 3u);
  const auto assistant = f.messages().at(1);
  EXPECT_EQ(assistant.status, "complete");
  EXPECT_EQ(assistant.stop_reason, "tool_call_limit");
  EXPECT_EQ(f.publisher.data_of_type("turn.done").at(0)["stop_reason"], "tool_call_limit");
}

TEST(TurnEngine, TokenStreamsAreCoalescedIntoFewUpdates) {
  EngineFixture f(std::make_unique<testing::ScriptedModel>([](auto&, auto& on_event, auto&, int) {
    for (int i = 0; i < 300; ++i) {
      on_event(text_event("t" + std::to_string(i) + " "));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    on_event(stop_event("end_turn"));
  }));
  f.engine->start_turn(f.user, f.session, "stream");
  f.wait_idle();
  const auto deltas = f.publisher.data_of_type("text.delta");
  std::string all;
  for (const auto& d : deltas) all += d["text"].get<std::string>();
  std::string expected;
  for (int i = 0; i < 300; ++i) expected += "t" + std::to_string(i) + " ";
  EXPECT_EQ(all, expected);
  EXPECT_LT(deltas.size(), 60u);
  EXPECT_GT(deltas.size(), 1u);
}

TEST(TurnEngine, ShutdownMarksTurnsStillRunningAfterTheGraceInterrupted) {
  TurnSettings settings;
  settings.shutdown_grace = std::chrono::milliseconds(100);
  EngineFixture f(
      std::make_unique<testing::ScriptedModel>([](auto&, auto& on_event, auto& cancelled, int) {
        on_event(text_event("partial answer"));
        wait_or_cancel(cancelled, std::chrono::seconds(30));
      }),
      settings);
  f.engine->start_turn(f.user, f.session, "long one");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  f.engine->shutdown();
  const auto assistant = f.messages().at(1);
  EXPECT_EQ(assistant.status, "interrupted");
  EXPECT_EQ(message_text(assistant.content), "partial answer");
  EXPECT_EQ(f.publisher.data_of_type("turn.error").at(0)["code"], "interrupted");
  EXPECT_THROW(f.engine->start_turn(f.user, f.session, "late"), TurnRefused);
}

TEST(TurnEngine, TurnsLeftRunningByADeadProcessAreMarkedInterruptedAtStart) {
  EngineFixture f(
      std::make_unique<model::DemoProvider>(model::DemoSettings{std::chrono::milliseconds(0)}));
  // What a killed process leaves: its lock and a running assistant message.
  ASSERT_TRUE(
      f.store->acquire_turn_lock(f.user, f.session, "t_dead", "test-proc", now_ms() + 600'000));
  store::StoredMessage running;
  running.role = "assistant";
  running.turn_id = "t_dead";
  running.status = store::turn_status::kRunning;
  running.content = nlohmann::json::array({{{"type", "text"}, {"text", "half"}}});
  f.store->append_message(f.user, f.session, running);
  EXPECT_EQ(f.engine->recover_abandoned_turns(), 1);
  const auto m = f.messages().at(0);
  EXPECT_EQ(m.status, "interrupted");
  EXPECT_EQ(message_text(m.content), "half");
  EXPECT_NO_THROW(f.engine->start_turn(f.user, f.session, "next"));
  f.wait_idle();
}

TEST(Conversation, AssistantToolCallsBecomeUseAndResultMessages) {
  store::StoredMessage user;
  user.role = "user";
  user.content = nlohmann::json::array({{{"type", "text"}, {"text", "time?"}}});
  store::StoredMessage assistant;
  assistant.role = "assistant";
  assistant.content = nlohmann::json::array({{{"type", "text"}, {"text", "Checking."}},
                                             {{"type", "tool_call"},
                                              {"call_id", "c1"},
                                              {"name", "current_time"},
                                              {"input", nlohmann::json::object()},
                                              {"output", "noon"},
                                              {"is_error", false}},
                                             {{"type", "tool_call"},
                                              {"call_id", "c2"},
                                              {"name", "current_time"},
                                              {"input", nlohmann::json::object()}},
                                             {{"type", "text"}, {"text", "It is noon."}}});
  const auto messages = to_model_messages({user, assistant});
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[1].role, "assistant");
  ASSERT_EQ(messages[1].content.size(), 3u);
  EXPECT_EQ(messages[1].content[1].kind, model::ContentBlock::Kind::kToolUse);
  EXPECT_EQ(messages[2].role, "user");
  ASSERT_EQ(messages[2].content.size(), 2u);
  EXPECT_EQ(messages[2].content[0].tool_output, "noon");
  EXPECT_TRUE(messages[2].content[1].tool_is_error);  // never returned: closed as an error
  EXPECT_EQ(messages[3].content[0].text, "It is noon.");
}

}  // namespace
}  // namespace agent::engine
