// Cancellation: callbacks run once with the first reason, late ones at
// once, Remove waits for a running one; and what a job relies on — a
// command started on a thread bound to its Cancellation dies when the job
// is cancelled (ProcessWatch, RunProcess), and one outside it does not.
#include "common/cancellation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/process.h"
#include "common/process_watch.h"
#include "common/time_source.h"
#include "tests/support/notification.h"

namespace dxbackup::common {
namespace {

TEST(CancellationTest, RunsEachCallbackOnceWithTheFirstReason) {
  Cancellation cancel;
  std::vector<std::string> seen;
  cancel.OnCancel([&](const std::string& why) { seen.push_back("a " + why); });
  const uint64_t removed =
      cancel.OnCancel([&](const std::string& why) { seen.push_back(why); });
  cancel.Remove(removed);
  EXPECT_FALSE(cancel.cancelled());
  cancel.Cancel("by ann");
  cancel.Cancel("by bob");
  EXPECT_TRUE(cancel.cancelled());
  EXPECT_EQ(cancel.why(), "by ann");
  EXPECT_EQ(seen, std::vector<std::string>{"a by ann"});
  // Registered after the fact: runs at once, with the same reason.
  cancel.OnCancel([&](const std::string& why) { seen.push_back("b " + why); });
  EXPECT_EQ(seen, (std::vector<std::string>{"a by ann", "b by ann"}));
}

TEST(CancellationTest, RemoveWaitsForTheCallbackRunningNow) {
  Cancellation cancel;
  testing::Notification entered, release;
  std::atomic<bool> finished{false};
  const uint64_t handle = cancel.OnCancel([&](const std::string&) {
    entered.Notify();
    release.WaitForNotification();
    finished = true;
  });
  std::thread canceller([&] { cancel.Cancel("now"); });
  entered.WaitForNotification();
  testing::Notification removing;
  std::atomic<bool> removed{false};
  std::thread remover([&] {
    removing.Notify();
    cancel.Remove(handle);
    removed = true;
    EXPECT_TRUE(finished.load());  // what it touched may go now
  });
  removing.WaitForNotification();
  // The callback cannot end before `release`: neither may Remove.
  EXPECT_FALSE(removed.load());
  release.Notify();
  remover.join();
  canceller.join();
}

TEST(CancellationTest, AScopeBindsOnlyItsThreadAndRestoresTheOuterOne) {
  Cancellation outer, inner;
  EXPECT_EQ(Cancellation::Current(), nullptr);
  {
    CancellationScope a(&outer);
    {
      CancellationScope b(&inner);
      EXPECT_EQ(Cancellation::Current(), &inner);
      std::thread other([] { EXPECT_EQ(Cancellation::Current(), nullptr); });
      other.join();
    }
    EXPECT_EQ(Cancellation::Current(), &outer);
  }
  EXPECT_EQ(Cancellation::Current(), nullptr);
}

TEST(CancellationTest, AWatchedCommandOfACancelledJobIsKilledWithItsReason) {
  Cancellation job;
  ProcessSpec spec{{"sleep", "1000"}, {}};
  auto child = Subprocess::Start(spec);
  ASSERT_TRUE(child.ok()) << child.status();
  CancellationScope scope(&job);
  ProcessWatch watch(child->get(), /*timeout_seconds=*/0, RealTime());
  std::thread canceller([&] { job.Cancel("cancelled by ann"); });
  absl::StatusOr<int> code = watch.Wait();  // returns: it was killed
  canceller.join();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_NE(*code, 0);
  EXPECT_EQ(watch.killed(), "cancelled by ann");
}

TEST(CancellationTest, RunProcessOnABoundThreadDiesWithTheJob) {
  Cancellation job;
  job.Cancel("cancelled before it started");
  CancellationScope scope(&job);
  absl::StatusOr<ProcessResult> result =
      RunProcess({{"sleep", "1000"}, {}});  // killed at once, not in 1000 s
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_NE(result->exit_code, 0);
  EXPECT_EQ(result->killed, "cancelled before it started");
}

TEST(CancellationTest, ACommandOutsideTheScopeIsNotTouched) {
  Cancellation job;
  job.Cancel("cancelled");
  absl::StatusOr<ProcessResult> result = RunProcess({{"true"}, {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->killed, "");
}

}  // namespace
}  // namespace dxbackup::common
