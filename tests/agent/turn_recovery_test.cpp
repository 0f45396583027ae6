// Crash recovery in the turn engine: a live turn renews its lock's lease; a dead process's
// turn is marked interrupted (persisted with its error, and turn.error published) at start for
// this instance id, by the periodic sweep once its lease ran out, or by the next message.
#include <gtest/gtest.h>

#include "engine/conversation.h"
#include "engine_fixture.h"
#include "fake_model.h"
#include "model/demo_provider.h"

namespace agent::engine {
namespace {

using testing::EngineFixture;
using testing::eventually;

std::unique_ptr<model::ModelProvider> instant_demo() {
  return std::make_unique<model::DemoProvider>(model::DemoSettings{std::chrono::milliseconds(0)});
}

void expect_marked(EngineFixture& f, const std::string& turn_id) {
  const auto dead = f.messages().at(0);
  EXPECT_EQ(dead.turn_id, turn_id);
  EXPECT_EQ(dead.status, "interrupted");
  EXPECT_EQ(dead.error_code, "interrupted");
  EXPECT_EQ(dead.error_message, "the agent stopped before the turn finished");
  EXPECT_EQ(message_text(dead.content), "half");
  const auto errors = f.publisher.data_of_type("turn.error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["turn_id"], turn_id);
  EXPECT_EQ(errors[0]["code"], "interrupted");
}

TEST(TurnRecovery, TurnsLeftRunningUnderThisInstanceIdAreMarkedInterruptedAtStart) {
  EngineFixture f(instant_demo());
  f.leave_dead_turn("t_dead", "test-proc", now_ms() + 600'000);
  EXPECT_EQ(f.engine->recover_abandoned_turns(true), 1);
  expect_marked(f, "t_dead");
  EXPECT_NO_THROW(f.engine->start_turn(f.user, f.session, "next"));
  f.wait_idle();
  // Recovered once: a second sweep finds nothing.
  EXPECT_EQ(f.engine->recover_abandoned_turns(true), 0);
}

TEST(TurnRecovery, ALiveTurnRenewsItsLeaseSoNoOtherInstanceTakesItOver) {
  TurnSettings settings;
  settings.lock_lease = std::chrono::milliseconds(300);
  settings.lock_heartbeat = std::chrono::milliseconds(50);
  std::atomic<bool> finish{false};
  EngineFixture f(
      std::make_unique<testing::ScriptedModel>([&](auto&, auto& on_event, auto& cancelled, int) {
        on_event(testing::text_event("thinking"));
        while (!finish.load() && !cancelled.load())
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        on_event(testing::stop_event("end_turn"));
      }),
      settings);
  const auto started = f.engine->start_turn(f.user, f.session, "long");
  std::this_thread::sleep_for(std::chrono::milliseconds(900));  // three leases
  // Another instance sees a held lock, nothing abandoned, and cannot start a turn.
  EXPECT_FALSE(
      f.store->acquire_turn_lock(f.user, f.session, "t_other", "other", now_ms() + 1000).acquired);
  for (const auto& lock : f.store->abandoned_turns("", now_ms()))
    EXPECT_NE(lock.turn_id, started.turn_id);
  finish.store(true);
  f.wait_idle();
  EXPECT_EQ(f.messages().at(1).status, "complete");
  // Released at the end.
  EXPECT_TRUE(
      f.store->acquire_turn_lock(f.user, f.session, "t_other", "other", now_ms() + 1000).acquired);
}

TEST(TurnRecovery, ThePeriodicSweepMarksTurnsOfAnotherInstanceWhoseLeaseRanOut) {
  TurnSettings settings;
  settings.recovery_interval = std::chrono::milliseconds(50);
  settings.lock_heartbeat = std::chrono::milliseconds(20);
  EngineFixture f(instant_demo(), settings);
  // Another task died 200 ms from now: its lease still runs, then expires.
  f.leave_dead_turn("t_other", "task-that-died", now_ms() + 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(f.messages().at(0).status, "running") << "taken before its lease ran out";
  ASSERT_TRUE(eventually([&] { return f.messages().at(0).status == "interrupted"; },
                         std::chrono::seconds(2)));
  ASSERT_TRUE(eventually([&] { return !f.publisher.data_of_type("turn.error").empty(); }));
  expect_marked(f, "t_other");
  EXPECT_NO_THROW(f.engine->start_turn(f.user, f.session, "next"));
  f.wait_idle();
}

TEST(TurnRecovery, ANewMessageTakesOverAnExpiredLockAndMarksTheDeadTurn) {
  TurnSettings settings;
  settings.recovery_interval = std::chrono::hours(1);  // no sweep: the message must do it
  EngineFixture f(instant_demo(), settings);
  f.leave_dead_turn("t_gone", "task-that-died", now_ms() - 1);
  const auto started = f.engine->start_turn(f.user, f.session, "hello again");
  f.wait_idle();
  expect_marked(f, "t_gone");
  const auto messages = f.messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[2].turn_id, started.turn_id);
  EXPECT_EQ(messages[2].status, "complete");
}

TEST(TurnRecovery, ALockStillWithinItsLeaseIsNotTakenByANewMessage) {
  EngineFixture f(instant_demo());
  f.leave_dead_turn("t_maybe_alive", "another-task", now_ms() + 60'000);
  try {
    f.engine->start_turn(f.user, f.session, "too soon");
    FAIL() << "took a lock within its lease";
  } catch (const TurnRefused& e) {
    EXPECT_EQ(e.reason(), TurnRefused::Reason::kTurnRunning);
  }
  EXPECT_EQ(f.messages().size(), 1u);
  EXPECT_EQ(f.messages().at(0).status, "running");
}

}  // namespace
}  // namespace agent::engine
