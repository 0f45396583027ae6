// Tool calls that wait for the user's approval, in the turn engine with the demo model (which
// calls current_time when asked the time): what is published and stored while the call waits,
// and what each answer (or none) does.
#include <gtest/gtest.h>

#include "engine/conversation.h"
#include "engine/tool_approvals.h"
#include "engine_fixture.h"
#include "model/demo_provider.h"

namespace agent::engine {
namespace {

using testing::EngineFixture;
using testing::eventually;

TurnSettings approving(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  TurnSettings settings;
  settings.approvals.tools = {"current_time"};
  settings.approvals.timeout = timeout;
  return settings;
}

std::unique_ptr<model::ModelProvider> demo() {
  return std::make_unique<model::DemoProvider>(model::DemoSettings{std::chrono::milliseconds(0)});
}

// Starts "What time is it?" and waits for the tool.approval update; returns it.
nlohmann::json ask_the_time(EngineFixture& f) {
  f.engine->start_turn(f.user, f.session, "What time is it?");
  EXPECT_TRUE(eventually([&] { return !f.publisher.data_of_type("tool.approval").empty(); }));
  const auto asked = f.publisher.data_of_type("tool.approval");
  return asked.empty() ? nlohmann::json::object() : asked[0];
}

nlohmann::json stored_call(EngineFixture& f) {
  const auto messages = f.messages();
  for (const auto& block : messages.at(1).content)
    if (block["type"] == "tool_call") return block;
  return nullptr;
}

TEST(ToolApproval, TheCallWaitsPendingUntilApprovedThenRuns) {
  EngineFixture f(demo(), approving());
  const auto asked = ask_the_time(f);
  EXPECT_EQ(asked["name"], "current_time");
  EXPECT_EQ(asked["input"], nlohmann::json::object());
  const auto call_id = asked["call_id"].get<std::string>();
  // Announced as a call first, then asked, with the turn's seq order.
  const auto call = f.publisher.data_of_type("tool.call").at(0);
  EXPECT_EQ(call["call_id"], call_id);
  EXPECT_LT(call["seq"].get<int>(), asked["seq"].get<int>());
  EXPECT_EQ(asked["turn_id"], call["turn_id"]);
  // Waiting: stored pending, nothing run.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(stored_call(f)["approval"], "pending");
  EXPECT_FALSE(stored_call(f).contains("output"));
  EXPECT_EQ(f.messages().at(1).status, "running");
  EXPECT_TRUE(f.publisher.data_of_type("tool.result").empty());

  EXPECT_EQ(f.engine->decide_approval("mallory", f.session, call_id, true),
            ToolApprovals::Answer::kNotPending);
  EXPECT_EQ(f.engine->decide_approval(f.user, f.session, call_id, true),
            ToolApprovals::Answer::kRecorded);
  f.wait_idle();
  const auto ran = stored_call(f);
  EXPECT_EQ(ran["approval"], "approved");
  EXPECT_EQ(ran["output"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(ran["is_error"], false);
  EXPECT_EQ(f.messages().at(1).status, "complete");
  EXPECT_EQ(f.engine->decide_approval(f.user, f.session, call_id, false),
            ToolApprovals::Answer::kNotPending);
}

TEST(ToolApproval, ADeniedCallGoesBackToTheModelAsAnErrorResult) {
  EngineFixture f(demo(), approving());
  const auto asked = ask_the_time(f);
  EXPECT_EQ(f.engine->decide_approval(f.user, f.session, asked["call_id"], false),
            ToolApprovals::Answer::kRecorded);
  f.wait_idle();
  const auto denied = stored_call(f);
  EXPECT_EQ(denied["approval"], "denied");
  EXPECT_EQ(denied["output"], "denied by the user");
  EXPECT_EQ(denied["is_error"], true);
  const auto result = f.publisher.data_of_type("tool.result").at(0);
  EXPECT_EQ(result["output"], "denied by the user");
  EXPECT_EQ(result["is_error"], true);
  EXPECT_EQ(message_text(f.messages().at(1).content),
            "Let me check the clock.\n\nThe clock tool failed: `denied by the user`.");
}

TEST(ToolApproval, NoAnswerWithinTheTimeoutIsAnApprovalTimedOutResult) {
  EngineFixture f(demo(), approving(std::chrono::milliseconds(150)));
  const auto started = std::chrono::steady_clock::now();
  const auto asked = ask_the_time(f);
  f.wait_idle();
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150));
  const auto call = stored_call(f);
  EXPECT_EQ(call["approval"], "timed_out");
  EXPECT_EQ(call["output"], "approval timed out");
  EXPECT_EQ(f.messages().at(1).status, "complete");
  EXPECT_EQ(f.engine->decide_approval(f.user, f.session, asked["call_id"], true),
            ToolApprovals::Answer::kNotPending);
}

TEST(ToolApproval, CancelWhileACallWaitsEndsTheTurnWithoutRunningIt) {
  EngineFixture f(demo(), approving());
  ask_the_time(f);
  f.engine->cancel(f.user, f.session);
  f.wait_idle();
  const auto assistant = f.messages().at(1);
  EXPECT_EQ(assistant.status, "cancelled");
  EXPECT_EQ(stored_call(f)["approval"], "cancelled");
  EXPECT_FALSE(stored_call(f).contains("output"));
  EXPECT_TRUE(f.publisher.data_of_type("tool.result").empty());
  EXPECT_EQ(f.publisher.data_of_type("turn.done").at(0)["stop_reason"], "cancelled");
}

TEST(ToolApproval, TheTurnDeadlineAlsoEndsTheWait) {
  auto settings = approving();
  settings.deadline = std::chrono::milliseconds(300);
  EngineFixture f(demo(), settings);
  ask_the_time(f);
  f.wait_idle();
  EXPECT_EQ(f.messages().at(1).error_code, "deadline_exceeded");
  EXPECT_EQ(stored_call(f)["approval"], "cancelled");
}

TEST(ToolApproval, ToolsNotNamedRunWithoutAskingAndAStarAsksForAll) {
  TurnSettings settings;
  settings.approvals.tools = {"some_other_tool"};
  EngineFixture f(demo(), settings);
  f.engine->start_turn(f.user, f.session, "What time is it?");
  f.wait_idle();
  EXPECT_TRUE(f.publisher.data_of_type("tool.approval").empty());
  EXPECT_FALSE(stored_call(f).contains("approval"));
  EXPECT_EQ(stored_call(f)["output"], "2023-11-14T22:13:20.000Z");

  TurnSettings all;
  all.approvals.all = true;
  all.approvals.timeout = std::chrono::milliseconds(50);
  EngineFixture g(demo(), all);
  g.engine->start_turn(g.user, g.session, "What time is it?");
  g.wait_idle();
  EXPECT_EQ(g.publisher.data_of_type("tool.approval").size(), 1u);
}

TEST(ToolApprovals, AnAnswerGivenBeforeTheWaitStartsIsNotLostAndASecondOneIsRefused) {
  ToolApprovals approvals;
  auto pending = approvals.open("u", "s", "c1");
  EXPECT_EQ(approvals.decide("u", "s", "c1", true), ToolApprovals::Answer::kRecorded);
  EXPECT_EQ(approvals.decide("u", "s", "c1", false), ToolApprovals::Answer::kAlreadyDecided);
  EXPECT_EQ(approvals.decide("u", "s", "c2", true), ToolApprovals::Answer::kNotPending);
  const std::atomic<bool> stop{false};
  EXPECT_EQ(approvals.wait(pending, std::chrono::steady_clock::now(), stop),
            ToolApprovals::Outcome::kApproved);
  EXPECT_EQ(approvals.pending_count(), 0u);
}

}  // namespace
}  // namespace agent::engine
