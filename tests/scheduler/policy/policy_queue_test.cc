#include "scheduler/policy/policy_queue.h"

#include <gtest/gtest.h>

namespace dxbackup::scheduler {
namespace {

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi),
                         absl::UTCTimeZone());
}

PlanEntry Entry(const std::string& ns, const std::string& release,
                const std::string& spec, std::optional<absl::Time> last,
                const std::string& policy = "nightly") {
  return PlanEntry{{policy, ns, release}, *CronSchedule::Parse(spec, ns), last};
}

std::vector<std::string> Names(const std::vector<PlanKey>& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.Deployment());
  return out;
}

TEST(PolicyQueueTest, MissedRunsAfterDowntimeRunOnce) {
  PolicyQueue q({});
  const absl::Time down = Utc(2026, 11, 24, 3);
  q.SetPlan({Entry("a", "dx", "0 3 * * *", down)}, down);
  // The scheduler was down from Monday to Thursday 10:00.
  auto tick = q.Tick(Utc(2026, 11, 27, 10));
  EXPECT_EQ(Names(tick.start), std::vector<std::string>{"a/dx"});
  ASSERT_EQ(tick.slots_taken.size(), 1u);
  EXPECT_EQ(tick.slots_taken[0].second, Utc(2026, 11, 27, 3));
  q.Finished(tick.start[0]);
  EXPECT_TRUE(q.Tick(Utc(2026, 11, 27, 11)).start.empty());
  EXPECT_EQ(Names(q.Tick(Utc(2026, 11, 28, 3)).start),
            std::vector<std::string>{"a/dx"});
}

TEST(PolicyQueueTest, NewEntriesWaitForTheirNextSlot) {
  PolicyQueue q({});
  const absl::Time now = Utc(2026, 11, 28, 10);
  q.SetPlan({Entry("a", "dx", "0 3 * * *", std::nullopt)}, now);
  EXPECT_TRUE(q.Tick(now).start.empty());
  EXPECT_EQ(q.NextSlot(now), Utc(2026, 11, 29, 3));
  EXPECT_EQ(q.Tick(Utc(2026, 11, 29, 3)).start.size(), 1u);
}

TEST(PolicyQueueTest, RunsOfOneDeploymentNeverOverlap) {
  PolicyQueue q({});
  const absl::Time t0 = Utc(2026, 11, 28, 0);
  q.SetPlan({Entry("a", "dx", "0 * * * *", t0),
             Entry("a", "dx", "30 * * * *", t0, "other-policy")},
            t0);
  auto first = q.Tick(Utc(2026, 11, 28, 1));
  ASSERT_EQ(first.start.size(), 1u);
  // Still running at the next slots: queued once each, not started.
  EXPECT_TRUE(q.Tick(Utc(2026, 11, 28, 1, 30)).start.empty());
  EXPECT_TRUE(q.Tick(Utc(2026, 11, 28, 3)).start.empty());
  EXPECT_EQ(q.queued(), 2u);
  q.Finished(first.start[0]);
  auto next = q.Tick(Utc(2026, 11, 28, 3));
  EXPECT_EQ(next.start.size(), 1u) << "one at a time per deployment";
  q.Finished(next.start[0]);
  EXPECT_EQ(q.Tick(Utc(2026, 11, 28, 3)).start.size(), 1u);
  EXPECT_EQ(q.queued(), 0u);
}

TEST(PolicyQueueTest, LimitsHoldGloballyAndPerNamespace) {
  PolicyQueue q({/*max_sets=*/3, /*max_sets_per_namespace=*/2});
  const absl::Time t0 = Utc(2026, 11, 28, 0);
  std::vector<PlanEntry> plan;
  for (int i = 0; i < 6; ++i) {
    plan.push_back(Entry("big", "r" + std::to_string(i), "0 1 * * *", t0));
  }
  plan.push_back(Entry("small", "r0", "0 1 * * *", t0));
  q.SetPlan(plan, t0);
  auto tick = q.Tick(Utc(2026, 11, 28, 1));
  ASSERT_EQ(tick.start.size(), 3u);
  int big = 0, small = 0;
  for (const auto& k : tick.start) (k.namespace_ == "big" ? big : small)++;
  EXPECT_EQ(big, 2);
  EXPECT_EQ(small, 1) << "the small namespace is not starved";
  EXPECT_TRUE(q.Tick(Utc(2026, 11, 28, 1)).start.empty());
  q.Finished(tick.start[0]);
  EXPECT_EQ(q.Tick(Utc(2026, 11, 28, 1)).start.size(), 1u);
}

// A started run the catalog's fleet-wide limits refused goes back to the
// front of its namespace, its slot kept: it starts first at a later tick,
// and its slot is not taken again.
TEST(PolicyQueueTest, ARequeuedRunStartsFirstLaterWithItsSlot) {
  PolicyQueue q({/*max_sets=*/1, 0});
  const absl::Time t0 = Utc(2026, 11, 28, 0);
  q.SetPlan(
      {Entry("a", "dx", "0 1 * * *", t0), Entry("a", "dam", "0 1 * * *", t0)},
      t0);
  auto first = q.Tick(Utc(2026, 11, 28, 1));
  ASSERT_EQ(Names(first.start), std::vector<std::string>{"a/dam"});
  EXPECT_EQ(first.slots_taken.size(), 2u);
  q.Requeue(first.start[0]);
  EXPECT_FALSE(q.IsRunning(first.start[0]));
  EXPECT_EQ(q.queued(), 2u);
  auto later = q.Tick(Utc(2026, 11, 28, 1, 5));
  EXPECT_EQ(Names(later.start), std::vector<std::string>{"a/dam"});
  EXPECT_TRUE(later.slots_taken.empty());
  q.Finished(later.start[0]);
  EXPECT_EQ(Names(q.Tick(Utc(2026, 11, 28, 1, 6)).start),
            std::vector<std::string>{"a/dx"});
}

TEST(PolicyQueueTest, NamespacesTakeTurns) {
  PolicyQueue q({/*max_sets=*/1, 0});
  const absl::Time t0 = Utc(2026, 11, 28, 0);
  std::vector<PlanEntry> plan;
  for (int i = 0; i < 3; ++i) {
    plan.push_back(Entry("a", "r" + std::to_string(i), "0 1 * * *", t0));
    plan.push_back(Entry("b", "r" + std::to_string(i), "0 1 * * *", t0));
    plan.push_back(Entry("c", "r" + std::to_string(i), "0 1 * * *", t0));
  }
  q.SetPlan(plan, t0);
  std::string order;
  for (int i = 0; i < 9; ++i) {
    auto tick = q.Tick(Utc(2026, 11, 28, 1));
    ASSERT_EQ(tick.start.size(), 1u);
    order += tick.start[0].namespace_;
    q.Finished(tick.start[0]);
  }
  EXPECT_EQ(order, "abcabcabc");
}

TEST(PolicyQueueTest, ManualRunsGoThroughTheSameLimits) {
  PolicyQueue q({/*max_sets=*/1, 0});
  const absl::Time t0 = Utc(2026, 11, 28, 0);
  q.SetPlan({Entry("a", "r0", "@daily", t0), Entry("a", "r1", "@daily", t0)},
            t0);
  q.Enqueue({"nightly", "a", "r0"});
  q.Enqueue({"nightly", "a", "r1"});
  q.Enqueue({"nightly", "a", "r1"});
  EXPECT_EQ(q.queued(), 2u) << "a queued run is not queued twice";
  EXPECT_EQ(q.Tick(t0).start.size(), 1u);
  EXPECT_EQ(q.running(), 1u);
}

}  // namespace
}  // namespace dxbackup::scheduler
