// The active pod's label is looked at again every 30 s (a label taken off
// by hand, or by a scheduler frozen before this one, is put back), every
// 10 s after a failure, and not at all while this scheduler is not sure it
// is active — on simulated time, so that no test waits 30 s.
#include "scheduler/server/active_pod_marker.h"

#include <gtest/gtest.h>

#include <atomic>

#include "tests/support/fake_time_source.h"

namespace dxbackup::scheduler {
namespace {

class ActivePodMarkerTest : public ::testing::Test {
 protected:
  // Starts the marker and returns once it waits after its first look.
  void Start() {
    marker_ = std::make_unique<ActivePodMarker>(
        [this](const std::function<bool()>&) {
          ++marks_;
          return failing_ ? absl::UnavailableError("the API is away")
                          : absl::OkStatus();
        },
        [this] { return active_.load(); }, &time_);
    ASSERT_TRUE(time_.AwaitWaiters(1));
  }
  // Moves time by `d`; returns once the marker waits again.
  void Pass(std::chrono::seconds d) {
    const uint64_t round = time_.Advance(d);
    ASSERT_TRUE(time_.AwaitWaiters(1, round));
  }
  // Moves time by `d` a second at a time; each second that wakes the
  // marker waits until it waits again, so that a marker that looks sooner
  // than `d` looks (and counts) more than once on the way.
  void PassBySeconds(std::chrono::seconds d) {
    for (int i = 0; i < d.count(); ++i) {
      size_t woken = 0;
      const uint64_t round = time_.Advance(std::chrono::seconds(1), &woken);
      if (woken > 0) ASSERT_TRUE(time_.AwaitWaiters(1, round));
    }
  }
  void TearDown() override { marker_.reset(); }

  testing::FakeTimeSource time_;
  std::atomic<int> marks_{0};
  std::atomic<bool> failing_{false};
  std::atomic<bool> active_{true};
  std::unique_ptr<ActivePodMarker> marker_;
};

TEST_F(ActivePodMarkerTest, LooksAgainEveryThirtySeconds) {
  Start();
  EXPECT_EQ(marks_, 1);
  // Once each period, and not before.
  PassBySeconds(ActivePodMarker::kRecheck);
  EXPECT_EQ(marks_, 2);
  PassBySeconds(ActivePodMarker::kRecheck);
  EXPECT_EQ(marks_, 3);
}

TEST_F(ActivePodMarkerTest, AFailureIsTriedAgainSooner) {
  failing_ = true;
  Start();
  EXPECT_EQ(marks_, 1);
  Pass(ActivePodMarker::kRetry);
  EXPECT_EQ(marks_, 2) << "tried again after 10 s";
  failing_ = false;
  Pass(ActivePodMarker::kRetry);
  EXPECT_EQ(marks_, 3);
  PassBySeconds(ActivePodMarker::kRecheck);
  EXPECT_EQ(marks_, 4) << "marked: the next look is 30 s on, not 10";
}

TEST_F(ActivePodMarkerTest, NeverMarksWhileNotSureItIsActive) {
  active_ = false;
  Start();
  for (int i = 0; i < 5; ++i) Pass(ActivePodMarker::kInactive);
  EXPECT_EQ(marks_, 0);
  active_ = true;
  Pass(ActivePodMarker::kInactive);
  EXPECT_EQ(marks_, 1);
}

}  // namespace
}  // namespace dxbackup::scheduler
