#include "shared/shutdown.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "shared/logging.h"

namespace {

using namespace std::chrono_literals;

// Waits until the watcher thread has taken the signal.
bool wait_fired(const shared::ShutdownSignal& signals) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!signals.fired()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(ShutdownSignal, SigtermRunsTheRegisteredCallbacksOnceInOrder) {
  shared::ShutdownSignal signals;
  std::vector<int> order;
  std::atomic<int> runs{0};
  signals.on_shutdown([&] { order.push_back(1); });
  signals.on_shutdown([&] {
    order.push_back(2);
    ++runs;
  });
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_TRUE(wait_fired(signals));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (runs.load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  signals.trigger();  // a second signal (or trigger) does not run them again
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

// The mains register their stop callback only after building and binding their parts; a
// SIGTERM that arrives before that must still stop them.
TEST(ShutdownSignal, ACallbackRegisteredAfterTheSignalRunsAtOnce) {
  shared::ShutdownSignal signals;
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_TRUE(wait_fired(signals));
  bool ran = false;
  signals.on_shutdown([&] { ran = true; });
  EXPECT_TRUE(ran) << "the signal came before the callback and was lost";
}

TEST(ShutdownSignal, SigintCountsAsWell) {
  shared::ShutdownSignal signals;
  std::atomic<bool> ran{false};
  signals.on_shutdown([&] { ran = true; });
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  ASSERT_TRUE(wait_fired(signals));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!ran && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(ran);
}

TEST(ShutdownSignal, TriggerBeforeRegisteringAlsoRunsLateCallbacks) {
  shared::ShutdownSignal signals;
  EXPECT_FALSE(signals.fired());
  signals.trigger();
  EXPECT_TRUE(signals.fired());
  int runs = 0;
  signals.on_shutdown([&] { ++runs; });
  signals.on_shutdown([&] { ++runs; });
  EXPECT_EQ(runs, 2);
}

TEST(AbandonInFlightWork, ExitsWithTheStatusWithoutExitHandlersAfterWritingTheLog) {
  EXPECT_EXIT(
      {
        shared::log::init(shared::LogConfig{"info", "text"}, "test");
        // Were exit handlers (and so static destructors) run, the status would be 4.
        std::atexit([] { ::_exit(4); });
        shared::abandon_in_flight_work_and_exit(3);
      },
      ::testing::ExitedWithCode(3), "exiting with requests still in flight");
}

}  // namespace
