// The turn worker pool's admission: idle workers take jobs even with no queue at all, a burst
// is admitted up to the idle workers plus the queue, and a reservation holds its place.
#include "engine/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace agent::engine {
namespace {

// A job that runs until released, so that a test controls how many workers are busy.
struct Gate {
  std::promise<void> open;
  std::shared_future<void> opened = open.get_future().share();
  std::atomic<int> started{0};
  std::function<void()> job() {
    return [this] {
      ++started;
      opened.wait();
    };
  }
};

TEST(WorkerPool, WithNoQueueIdleWorkersStillTakeJobs) {
  WorkerPool pool(2, 0);
  Gate gate;
  EXPECT_TRUE(pool.try_submit(gate.job()));
  EXPECT_TRUE(pool.try_submit(gate.job()));
  EXPECT_FALSE(pool.try_submit(gate.job())) << "both workers are busy and nothing may wait";
  gate.open.set_value();
  pool.stop();
  EXPECT_EQ(gate.started.load(), 2);
}

TEST(WorkerPool, ABurstIsAdmittedUpToTheIdleWorkersPlusTheQueue) {
  WorkerPool pool(3, 2);
  Gate gate;
  int admitted = 0;
  // Submitted faster than the workers pick them up: still five fit.
  for (int i = 0; i < 8; ++i) admitted += pool.try_submit(gate.job()) ? 1 : 0;
  EXPECT_EQ(admitted, 5);
  gate.open.set_value();
  pool.stop();
  EXPECT_EQ(gate.started.load(), 5);
}

TEST(WorkerPool, AReservationHoldsItsPlaceUntilSubmittedOrDropped) {
  WorkerPool pool(1, 0);
  Gate gate;
  {
    auto slot = pool.reserve();
    ASSERT_TRUE(slot);
    EXPECT_FALSE(pool.reserve()) << "the only place is reserved";
  }  // dropped: given back
  auto slot = pool.reserve();
  ASSERT_TRUE(slot);
  EXPECT_TRUE(slot.submit(gate.job()));
  EXPECT_FALSE(slot) << "a slot is used up by its job";
  EXPECT_FALSE(pool.reserve());
  gate.open.set_value();
  for (int i = 0; i < 200 && !pool.reserve(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(pool.reserve()) << "the worker is idle again";
  pool.stop();
  EXPECT_FALSE(pool.reserve()) << "a stopped pool admits nothing";
}

}  // namespace
}  // namespace agent::engine
