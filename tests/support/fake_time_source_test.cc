// The simulated time the watchdog and periodic tests lean on: a wait ends
// when Advance() passes its deadline, not before, and not by itself.
#include "tests/support/fake_time_source.h"

#include <gtest/gtest.h>

#include <thread>

namespace dxbackup::testing {
namespace {

TEST(FakeTimeSourceTest, AWaitEndsWhenTimePassesItsDeadlineAndNotBefore) {
  FakeTimeSource time;
  std::mutex mu;
  std::condition_variable cv;
  bool timed_out = false;
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mu);
    timed_out = !time.WaitFor(lock, cv, std::chrono::seconds(10),
                              [] { return false; });
  });
  ASSERT_TRUE(time.AwaitWaiters(1));
  time.Advance(std::chrono::seconds(9));
  // Not woken: its deadline is a second away.
  EXPECT_EQ(time.waiters(), 1u);
  time.Advance(std::chrono::seconds(1));
  waiter.join();
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(time.waiters(), 0u);
}

TEST(FakeTimeSourceTest, ANotifiedConditionEndsTheWaitWithoutTimeMoving) {
  FakeTimeSource time;
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  bool done = false;
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mu);
    done = time.WaitFor(lock, cv, std::chrono::hours(1), [&] { return ready; });
  });
  ASSERT_TRUE(time.AwaitWaiters(1));
  {
    std::lock_guard<std::mutex> lock(mu);
    ready = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_TRUE(done);
}

TEST(FakeTimeSourceTest, WallAndMonotonicTimeMoveTogether) {
  FakeTimeSource time;
  const auto wall = time.Now();
  const auto mono = time.Monotonic();
  time.Advance(std::chrono::minutes(90));
  EXPECT_EQ(time.Now() - wall, std::chrono::minutes(90));
  EXPECT_EQ(time.Monotonic() - mono, std::chrono::minutes(90));
  EXPECT_EQ(time.NowUnix(), 1800000000 + 90 * 60);
}

}  // namespace
}  // namespace dxbackup::testing
