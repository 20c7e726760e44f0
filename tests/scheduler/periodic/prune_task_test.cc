// Pruning on simulated time: retention runs at the slots of prune_schedule,
// not when the scheduler starts and not between slots.
#include "scheduler/periodic/prune_task.h"

#include <gtest/gtest.h>

#include "tests/scheduler/periodic/periodic_fixture.h"
#include "tests/support/memory_store.h"

namespace dxbackup::scheduler {
namespace {

class PruneTaskTest : public PeriodicTest {
 protected:
  void SetUp() override {
    PeriodicTest::SetUp();
    store_ = std::make_unique<testing::MemoryStore>();
    v1::Policy* policy = config_.add_policies();
    policy->set_name("nightly");
    policy->mutable_retention()->set_keep_last(1);
    config_.set_prune_schedule("0 */6 * * *");  // 12:00, 18:00, ... UTC
    for (int i = 0; i < 3; ++i) {
      v1::BackupSet set;
      set.set_id("s" + std::to_string(i));
      set.set_namespace_("ns");
      set.set_release("dx");
      set.set_policy("nightly");
      set.set_status(v1::SET_COMPLETE);
      set.set_started_unix(absl::ToUnixSeconds(Now()) - 86400 * (3 - i));
      ASSERT_TRUE(catalog_->CreateSet(set).ok());
    }
  }
  size_t Sets() {
    auto sets = catalog_->ListSets(v1::ListSetsRequest());
    EXPECT_TRUE(sets.ok()) << sets.status();
    return sets.ok() ? sets->size() : 0;
  }

  std::unique_ptr<testing::MemoryStore> store_;
};

TEST_F(PruneTaskTest, PrunesAtTheSlotsOfThePruneSchedule) {
  Pruner pruner(config_, catalog_.get(), store_.get(), &time_);
  PruneTask prune(config_, &pruner);
  ticker_.Register(&prune);
  StartTicking();  // 08:00
  EXPECT_EQ(Sets(), 3u) << "starting the scheduler does not prune";
  Pass(absl::Hours(3) + absl::Minutes(59));
  EXPECT_EQ(Sets(), 3u) << "pruned before the slot";
  Pass(absl::Minutes(1));  // 12:00
  EXPECT_EQ(Sets(), 1u) << "keep_last 1 at the 12:00 slot";
}

}  // namespace
}  // namespace dxbackup::scheduler
