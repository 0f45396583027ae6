// The turn engine against a scripted model, a real SQLite store and a recording publisher.
#include "engine/turn_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "engine/conversation.h"
#include "engine_fixture.h"
#include "fake_model.h"
#include "model/demo_provider.h"

namespace agent::engine {
namespace {

using testing::emit_tool_use;
using testing::stop_event;
using testing::text_event;
using testing::wait_or_cancel;

using testing::EngineFixture;

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
    // (up to 10 s: a sanitizer build on a loaded machine is slow, and a turn still running
    // when the loop gives up would fail the next start with 409 for the wrong reason)
    for (int i = 0; i < 10000; ++i) {
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

TEST(TurnEngine, AModelThatGivesUpAtTheTurnDeadlineEndsTheTurnAsDeadlineExceeded) {
  TurnSettings settings;
  settings.deadline = std::chrono::milliseconds(200);
  EngineFixture f(std::make_unique<testing::ScriptedModel>(
                      [](const model::ModelRequest& request, auto& on_event, auto&, int) {
                        on_event(text_event("slow"));
                        // As a provider does with the deadline it is given: it gives up the
                        // moment it passes, before the engine's ticker notices.
                        std::this_thread::sleep_for(request.deadline);
                        throw model::ModelError("timeout", "the model call timed out", true);
                      }),
                  settings);
  f.engine->start_turn(f.user, f.session, "hurry");
  f.wait_idle();
  const auto assistant = f.messages().at(1);
  EXPECT_EQ(assistant.status, "error");
  EXPECT_EQ(assistant.error_code, "deadline_exceeded");
  EXPECT_EQ(f.publisher.data_of_type("turn.error").at(0)["code"], "deadline_exceeded");
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

TEST(TurnEngine, ATurnRefusedAsBusyStoresNothingAndLeavesTheSessionFree) {
  TurnSettings settings;
  settings.workers = 1;
  settings.queue = 0;
  EngineFixture f(
      std::make_unique<testing::ScriptedModel>([](auto&, auto& on_event, auto& cancelled, int) {
        on_event(text_event("busy"));
        wait_or_cancel(cancelled, std::chrono::milliseconds(300));
        on_event(stop_event("end_turn"));
      }),
      settings);
  // The one worker is idle: with no queue at all, the turn is still taken.
  EXPECT_NO_THROW(f.engine->start_turn(f.user, f.session, "first"));
  const auto other = f.store->create_session(f.user, "other").id;
  try {
    f.engine->start_turn(f.user, other, "refused");
    FAIL() << "a turn was accepted with every worker busy and no queue";
  } catch (const TurnRefused& e) {
    EXPECT_EQ(e.reason(), TurnRefused::Reason::kBusy);
  }
  EXPECT_TRUE(f.messages(other).empty());
  EXPECT_TRUE(f.publisher.data_of_type("turn.error").empty());
  EXPECT_FALSE(f.engine->is_running(f.user, other));
  f.wait_idle();
  EXPECT_NO_THROW(f.engine->start_turn(f.user, other, "now"));
  f.wait_idle(other);
  ASSERT_EQ(f.messages(other).size(), 2u);
  EXPECT_EQ(message_text(f.messages(other)[0].content), "now");
}

TEST(TurnEngine, TheModelIsSentOnlyTheLastHistoryMessages) {
  TurnSettings settings;
  settings.history_messages = 3;
  auto scripted = std::make_unique<testing::ScriptedModel>([](auto&, auto& on_event, auto&, int) {
    on_event(text_event("ok"));
    on_event(stop_event("end_turn"));
  });
  auto* model = scripted.get();
  EngineFixture f(std::move(scripted), settings);
  for (int i = 1; i <= 4; ++i) {
    f.engine->start_turn(f.user, f.session, "question " + std::to_string(i));
    f.wait_idle();
  }
  // The fourth turn: messages 1..6 are history, 7 is its own question; it sees 5, 6 and 7.
  const auto last = model->requests().back();
  std::vector<std::string> texts;
  for (const auto& m : last.messages)
    for (const auto& b : m.content) texts.push_back(m.role + ":" + b.text);
  EXPECT_EQ(texts,
            (std::vector<std::string>{"user:question 3", "assistant:ok", "user:question 4"}));
}

class UntilStoppedTool : public tools::Tool {
 public:
  std::atomic<bool> saw_stop{false};
  std::string name() const override { return "wait_forever"; }
  std::string description() const override { return "runs until told to stop"; }
  nlohmann::json input_schema() const override { return {{"type", "object"}}; }
  tools::ToolResult run(const nlohmann::json&, const tools::ToolContext& context) override {
    while (!context.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    saw_stop.store(true);
    return {"stopped", true};
  }
};

TEST(TurnEngine, CancelStopsARunningToolAndTheTurnEndsAtOnce) {
  auto tool = std::make_shared<UntilStoppedTool>();
  TurnSettings settings;
  EngineFixture f(std::make_unique<testing::ScriptedModel>([](auto&, auto& on_event, auto&, int) {
                    emit_tool_use(on_event, "c1", "wait_forever", "{}");
                    on_event(stop_event("tool_use"));
                  }),
                  settings, {tool});
  f.engine->start_turn(f.user, f.session, "run it");
  ASSERT_TRUE(testing::eventually([&] { return !f.publisher.data_of_type("tool.call").empty(); }));
  const auto cancelled_at = std::chrono::steady_clock::now();
  f.engine->cancel(f.user, f.session);
  f.wait_idle();
  // Well before the tool's 500 ms timeout: the cancel reached the waiting call.
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::milliseconds(400));
  EXPECT_TRUE(testing::eventually([&] { return tool->saw_stop.load(); }));
  const auto assistant = f.messages().at(1);
  EXPECT_EQ(assistant.status, "cancelled");
  EXPECT_EQ(assistant.content.at(0)["output"], "the tool was stopped: the turn was cancelled");
}

TEST(TurnEngine, ShutdownIsBoundedWhenATurnDoesNotStop) {
  TurnSettings settings;
  settings.shutdown_grace = std::chrono::milliseconds(50);
  std::atomic<bool> release{false};
  EngineFixture f(std::make_unique<testing::ScriptedModel>([&](auto&, auto& on_event, auto&, int) {
                    on_event(text_event("stuck"));
                    // Ignores the stop flag, as a provider wedged in a call would.
                    while (!release.load())
                      std::this_thread::sleep_for(std::chrono::milliseconds(2));
                    on_event(stop_event("end_turn"));
                  }),
                  settings);
  f.engine->start_turn(f.user, f.session, "hang");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(f.engine->shutdown(started + std::chrono::milliseconds(300)));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_TRUE(f.engine->is_running(f.user, f.session));
  release.store(true);  // let the fixture's teardown join the worker
  f.wait_idle();
}

TEST(TurnEngine, TurnDurationBucketsReachTheDeadline) {
  const auto five_minutes = turn_duration_buckets(std::chrono::minutes(5));
  EXPECT_EQ(five_minutes.back(), 300.0);
  EXPECT_EQ(std::count(five_minutes.begin(), five_minutes.end(), 120.0), 1);
  EXPECT_TRUE(std::is_sorted(five_minutes.begin(), five_minutes.end()));
  const auto short_deadline = turn_duration_buckets(std::chrono::milliseconds(1500));
  EXPECT_EQ(short_deadline, (std::vector<double>{0.1, 0.25, 0.5, 1.0, 1.5}));
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
