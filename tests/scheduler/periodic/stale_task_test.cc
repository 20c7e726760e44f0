// Stale deployments on simulated time: a deployment whose newest complete
// set is older than its policy's RPO is told once per stale spell, a set
// found corrupt does not count, and a deployment with no set counts from
// when it was first seen.
#include "scheduler/periodic/stale_task.h"

#include <gtest/gtest.h>

#include <vector>

#include "scheduler/notify/notices.h"
#include "tests/scheduler/periodic/periodic_fixture.h"

namespace dxbackup::scheduler {
namespace {

class RecordingSink : public NoticeSink {
 public:
  void Notify(const v1::Notice& notice) override { told.push_back(notice); }
  std::vector<v1::Notice> told;
};

class StaleTaskTest : public PeriodicTest {
 protected:
  void SetUp() override {
    PeriodicTest::SetUp();
    covered_ = {{"nightly", "dx-prod", "dx"}, {"no-rpo", "dx-dev", "dx"}};
    v1::Policy* p = config_.add_policies();
    p->set_name("nightly");
    p->set_rpo_seconds(3600);
    v1::Policy* none = config_.add_policies();
    none->set_name("no-rpo");
    task_ = std::make_unique<StaleTask>(
        config_, catalog_.get(), [this] { return covered_; }, &sink_);
  }
  // A complete set of dx-prod/dx that ended `ago` before now.
  v1::BackupSet Complete(const std::string& id, absl::Duration ago) {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_("dx-prod");
    set.set_release("dx");
    set.set_status(v1::SET_COMPLETE);
    set.set_started_unix(absl::ToUnixSeconds(Now() - ago) - 60);
    set.set_finished_unix(absl::ToUnixSeconds(Now() - ago));
    EXPECT_TRUE(catalog_->CreateSet(set).ok());
    return set;
  }
  void Tick(absl::Duration later) {
    time_.Advance(absl::ToChronoNanoseconds(later));
    task_->Run(Now());
  }

  RecordingSink sink_;
  std::vector<PlanKey> covered_;  // what the policies cover now
  std::unique_ptr<StaleTask> task_;
};

TEST_F(StaleTaskTest, TellsOncePerSpellAndAgainAfterAFreshSetEndsIt) {
  Complete("s1", absl::Minutes(30));
  Tick(absl::ZeroDuration());
  Tick(absl::Minutes(29));  // 59 min old: fresh
  EXPECT_TRUE(sink_.told.empty());
  Tick(absl::Minutes(2));  // 61 min: stale
  ASSERT_EQ(sink_.told.size(), 1u);
  EXPECT_EQ(sink_.told[0].event(), kDeploymentStale);
  EXPECT_EQ(sink_.told[0].namespace_(), "dx-prod");
  EXPECT_EQ(sink_.told[0].policy(), "nightly");
  EXPECT_EQ(sink_.told[0].set_id(), "s1");
  Tick(absl::Hours(5));  // still stale: not told again
  EXPECT_EQ(sink_.told.size(), 1u);
  Complete("s2", absl::Minutes(1));
  Tick(absl::Minutes(1));
  EXPECT_EQ(sink_.told.size(), 1u);
  Tick(absl::Hours(1));  // a new spell
  ASSERT_EQ(sink_.told.size(), 2u);
  EXPECT_EQ(sink_.told[1].set_id(), "s2");
}

TEST_F(StaleTaskTest, ACorruptSetDoesNotCountAndNoSetCountsFromFirstSight) {
  Tick(absl::ZeroDuration());  // first seen now, no set yet
  Tick(absl::Minutes(59));
  EXPECT_TRUE(sink_.told.empty());
  v1::BackupSet corrupt = Complete("s1", absl::ZeroDuration());
  corrupt.mutable_verification()->set_result(v1::Verification::CORRUPT);
  ASSERT_TRUE(catalog_->UpdateSet(corrupt).ok());
  Tick(absl::Minutes(2));
  ASSERT_EQ(sink_.told.size(), 1u);
  EXPECT_EQ(sink_.told[0].set_id(), "");  // no sound set to name
  EXPECT_NE(sink_.told[0].summary().find("has no complete backup set"),
            std::string::npos);
}

// A review found a deployment dropped from the policies' coverage (its
// agents gone and forgotten, so no set even starts) was never told stale.
TEST_F(StaleTaskTest, ADeploymentWhoseAgentsAreForgottenIsStillTold) {
  Complete("s1", absl::Minutes(30));
  Tick(absl::ZeroDuration());
  covered_.clear();  // the core agent was forgotten
  Tick(absl::Hours(1));
  ASSERT_EQ(sink_.told.size(), 1u);
  EXPECT_EQ(sink_.told[0].set_id(), "s1");
}

}  // namespace
}  // namespace dxbackup::scheduler
