// Specification of the app's reusable worker threads (the relays' upstream exchanges run on them).
#include "worker_threads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace app {
namespace {

using namespace std::chrono_literals;

// Waits (bounded) until the condition holds.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

TEST(WorkerThreads, OneAfterAnotherJobsReuseOneThread) {
  WorkerThreads pool(200ms);
  for (int i = 0; i < 50; ++i) {
    std::promise<void> done;
    pool.run([&done] { done.set_value(); });
    done.get_future().wait();
    // The thread has to be back waiting before the next job, or the next gets a new one.
    ASSERT_TRUE(eventually([&] { return pool.idle_threads() == 1; }));
  }
  EXPECT_EQ(pool.threads_started(), 1u) << "a thread per job";
  ASSERT_TRUE(eventually([&] { return pool.threads() == 0; }));
}

TEST(WorkerThreads, BlockedJobsNeverWaitForEachOther) {
  WorkerThreads pool(200ms);
  std::atomic<int> running{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  for (int i = 0; i < 6; ++i) {
    pool.run([&running, released] {
      ++running;
      released.wait();
    });
  }
  EXPECT_TRUE(eventually([&] { return running.load() == 6; })) << "running together: " << running.load();
  EXPECT_EQ(pool.threads(), 6u);
  release.set_value();
  ASSERT_TRUE(eventually([&] { return pool.threads() == 0; }));
}

TEST(WorkerThreads, IdleThreadsEndAndAThrowingJobDoesNotTakeItsThreadDown) {
  WorkerThreads pool(100ms);
  pool.run([] { throw std::runtime_error("the job failed"); });
  std::promise<int> answer;
  pool.run([&answer] { answer.set_value(42); });
  auto result = answer.get_future();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(result.get(), 42);
  EXPECT_TRUE(eventually([&] { return pool.threads() == 0; })) << "idle threads were kept: " << pool.threads();
}

}  // namespace
}  // namespace app
