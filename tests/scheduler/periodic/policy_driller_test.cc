// Scheduled restore drills on simulated time: at each slot of a policy's
// drill schedule the newest complete, sound set of each deployment it
// covers is drilled, once per slot (a restart does not repeat it), and
// `policies` measures each deployment against its RPO and RTO.
#include "scheduler/periodic/policy_driller.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "scheduler/catalog/sqlite_catalog.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1800000000);  // 08:00 UTC

// Records each drill and writes its result on the set, as DrillRunner
// does; `rto` and `passes` say how it went.
class RecordingDriller : public SetDriller {
 public:
  explicit RecordingDriller(SetCatalog* sets) : sets_(sets) {}
  absl::StatusOr<v1::DrillResponse> Drill(
      const v1::DrillRequest& request) override {
    drilled.push_back(request.set_id() + " " + request.to_dir());
    auto set = sets_->GetSet(request.set_id());
    if (!set.ok()) return set.status();
    set->mutable_drill()->set_result(passes ? v1::Drill::PASSED
                                            : v1::Drill::FAILED);
    set->mutable_drill()->set_rto_seconds(rto);
    set->mutable_drill()->set_drilled_unix(set->finished_unix() + 60);
    EXPECT_TRUE(sets_->UpdateSet(*set).ok());
    v1::DrillResponse response;
    *response.mutable_set() = *set;
    return response;
  }
  std::vector<std::string> drilled;
  int64_t rto = 120;
  bool passes = true;

 private:
  SetCatalog* sets_;
};

class PolicyDrillerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Policy* p = config_.add_policies();
    p->set_name("nightly");
    p->mutable_drill()->set_schedule("@daily");
    p->mutable_drill()->set_to_dir("/scratch");
    p->set_rpo_seconds(86400);
    p->set_rto_seconds(600);
    config_.add_policies()->set_name("undrilled");
    auto catalog = SqliteCatalog::Open(dir_ / "catalog.db");
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(*catalog);
    driller_ = std::make_unique<RecordingDriller>(catalog_.get());
  }
  std::unique_ptr<PolicyDriller> Start(absl::Time now) {
    auto d = std::make_unique<PolicyDriller>(
        config_, catalog_.get(), catalog_.get(), driller_.get(), [] {
          return std::vector<PlanKey>{{"nightly", "ns", "dx"},
                                      {"nightly", "ns", "empty"},
                                      {"undrilled", "ns", "dx"}};
        });
    EXPECT_TRUE(d->Load(now).ok());
    return d;
  }
  void AddSet(const std::string& id, const std::string& policy,
              v1::SetStatus status, int64_t started) {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_("ns");
    set.set_release("dx");
    set.set_policy(policy);
    set.set_status(status);
    set.set_started_unix(started);
    set.set_finished_unix(started + 300);
    ASSERT_TRUE(catalog_->CreateSet(set).ok());
  }

  testing::TempDir dir_;
  v1::SchedulerConfig config_;
  std::unique_ptr<SqliteCatalog> catalog_;
  std::unique_ptr<RecordingDriller> driller_;
};

TEST_F(PolicyDrillerTest, DrillsTheNewestSoundSetOfEachDeploymentOncePerSlot) {
  const int64_t t = absl::ToUnixSeconds(kStart);
  AddSet("old", "nightly", v1::SET_COMPLETE, t - 3 * 86400);
  AddSet("newest", "nightly", v1::SET_COMPLETE, t - 86400);
  AddSet("failed", "nightly", v1::SET_FAILED, t - 3600);
  AddSet("manual", "", v1::SET_COMPLETE, t - 1800);  // not the policy's
  auto driller = Start(kStart);
  EXPECT_EQ(driller->RunDue(kStart + absl::Hours(1)), 0);   // before 00:00
  EXPECT_EQ(driller->RunDue(kStart + absl::Hours(17)), 1);  // the next day
  EXPECT_EQ(driller_->drilled, std::vector<std::string>{"newest /scratch"});
  EXPECT_EQ(driller->RunDue(kStart + absl::Hours(18)), 0);  // slot taken
  // A scheduler down over the next day's slot drills once it is back:
  // the slot taken was kept. A set found corrupt is passed over.
  v1::BackupSet corrupt = *catalog_->GetSet("newest");
  corrupt.mutable_verification()->set_result(v1::Verification::CORRUPT);
  ASSERT_TRUE(catalog_->UpdateSet(corrupt).ok());
  driller = Start(kStart + absl::Hours(42));
  EXPECT_EQ(driller->RunDue(kStart + absl::Hours(42)), 1);
  EXPECT_EQ(driller_->drilled.back(), "old /scratch");
  // ... and a restart after that slot does not drill it again.
  driller = Start(kStart + absl::Hours(43));
  EXPECT_EQ(driller->RunDue(kStart + absl::Hours(44)), 0);
  EXPECT_EQ(driller_->drilled.size(), 2u);
}

TEST_F(PolicyDrillerTest, PoliciesShowsWhetherEachDeploymentMeetsItsTargets) {
  const int64_t t = absl::ToUnixSeconds(kStart);
  AddSet("s1", "nightly", v1::SET_COMPLETE, t - 3600);
  auto driller = Start(kStart);
  v1::ListPoliciesResponse response;
  v1::PolicyInfo* info = response.add_policies();
  info->set_name("nightly");
  for (const char* release : {"dx", "empty"}) {
    v1::PolicyTarget* target = info->add_targets();
    target->set_namespace_("ns");
    target->set_release(release);
  }
  driller->Describe(&response, kStart);
  // Fresh, but never drilled: the RPO is met, the RTO is not.
  EXPECT_EQ(info->rpo_seconds(), 86400);
  EXPECT_EQ(info->drill_schedule(), "@daily");
  ASSERT_TRUE(info->targets(0).has_rpo_met());
  ASSERT_TRUE(info->targets(0).has_rto_met());
  EXPECT_TRUE(info->targets(0).rpo_met());
  EXPECT_FALSE(info->targets(0).rto_met());
  ASSERT_TRUE(info->targets(1).has_rpo_met());
  EXPECT_FALSE(info->targets(1).rpo_met());  // no set at all
  // A policy without targets measures none.
  v1::ListPoliciesResponse other;
  v1::PolicyInfo* undrilled = other.add_policies();
  undrilled->set_name("undrilled");
  undrilled->add_targets()->set_release("dx");
  driller->Describe(&other, kStart);
  EXPECT_FALSE(undrilled->targets(0).has_rpo_met());
  EXPECT_FALSE(undrilled->targets(0).has_rto_met());

  driller_->rto = 300;  // a passed drill within the 600 s target
  EXPECT_EQ(driller->RunDue(kStart + absl::Hours(17)), 1);
  driller->Describe(&response, kStart + absl::Hours(17));
  EXPECT_TRUE(info->targets(0).rto_met());
  EXPECT_EQ(info->targets(0).last_drill_rto_seconds(), 300);
  EXPECT_TRUE(info->targets(0).last_drill_passed());
  EXPECT_TRUE(info->targets(0).rpo_met());  // s1 ended under a day ago

  driller_->rto = 900;  // measured slower than the target
  EXPECT_EQ(driller->RunDue(kStart + absl::Hours(41)), 1);
  driller->Describe(&response, kStart + absl::Hours(41));
  EXPECT_FALSE(info->targets(0).rto_met());
  EXPECT_FALSE(info->targets(0).rpo_met());  // no set for 41 h now
}

}  // namespace
}  // namespace dxbackup::scheduler
