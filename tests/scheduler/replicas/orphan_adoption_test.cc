// OrphanAdoptionTask over the in-memory catalog and a real LeaseRouter:
// of the deployments with unfinished work, those whose owner lapsed (or
// that never had one) are taken over by the replica that looks, once;
// one a live replica owns is left to it; a deployment without unfinished
// work is not claimed at all.
#include "scheduler/replicas/orphan_adoption.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/time_source.h"
#include "scheduler/replicas/lease_router.h"
#include "tests/support/memory_catalog.h"

namespace dxbackup::scheduler {
namespace {

TEST(OrphanAdoptionTest, TakesOverTheLapsedOnesWorkAndLeavesTheLivesOne) {
  testing::MemoryCatalog catalog;
  ReplicaCatalog& replicas = catalog.replicas();
  ASSERT_TRUE(replicas.RegisterReplica({"gone", "10.0.0.9:7443"}, 60'000).ok());
  ASSERT_TRUE(replicas.RegisterReplica({"live", "10.0.0.2:7443"}, 60'000).ok());
  auto add = [&](const std::string& id, const std::string& release,
                 v1::SetStatus status) {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_("ns");
    set.set_release(release);
    set.set_status(status);
    ASSERT_TRUE(catalog.CreateSet(set).ok());
  };
  add("s-run", "run", v1::SET_RUNNING);     // its owner lapses
  add("s-exp", "exp", v1::SET_EXPIRING);    // nobody owns it
  add("s-live", "live", v1::SET_RUNNING);   // a live replica owns it
  add("s-done", "done", v1::SET_COMPLETE);  // nothing unfinished
  v1::DeploymentHold hold;
  hold.set_namespace_("ns");
  hold.set_release("held");
  hold.set_set_id("s-done");
  hold.set_restore_id("R1");
  hold.set_running(true);
  ASSERT_TRUE(catalog.PutHold(hold).ok());
  ASSERT_TRUE(catalog.RecordScaledDown({"ns", "scaled", "s-done", 3}).ok());
  ASSERT_TRUE(replicas.ClaimDeployment("ns", "run", "gone").ok());
  ASSERT_TRUE(replicas.CompleteTakeover("ns", "run", "gone").ok());
  ASSERT_TRUE(replicas.ClaimDeployment("ns", "live", "live").ok());
  ASSERT_TRUE(replicas.CompleteTakeover("ns", "live", "live").ok());
  ASSERT_TRUE(replicas.RenewReplica("gone", -1).ok());

  auto lease =
      ReplicaLease::Start(&replicas, {"me", "10.0.0.1:7443"},
                          &common::RealTime(), [](const absl::Status&) {});
  ASSERT_TRUE(lease.ok()) << lease.status();
  std::vector<std::string> taken;
  LeaseRouter router(lease->get(),
                     [&](const std::string& ns, const std::string& release,
                         const std::string& previous) {
                       taken.push_back(ns + "/" + release + "<-" + previous);
                       return absl::OkStatus();
                     });
  OrphanAdoptionTask task(&catalog, &router);
  const absl::Time now = absl::Now();
  EXPECT_EQ(task.NextDue(now), now);
  task.Run(now);
  EXPECT_EQ(taken, (std::vector<std::string>{"ns/exp<-", "ns/held<-",
                                             "ns/run<-gone", "ns/scaled<-"}));
  EXPECT_FALSE((*lease)->Owns("ns", "live"));
  EXPECT_FALSE((*lease)->Owns("ns", "done"));
  // Looking again takes nothing over again.
  task.Run(now + OrphanAdoptionTask::kEvery);
  EXPECT_EQ(taken.size(), 4u);
  EXPECT_EQ(task.NextDue(now + OrphanAdoptionTask::kEvery),
            now + 2 * OrphanAdoptionTask::kEvery);
}

// Counts the routes asked for, and routes through `inner`.
class CountingRouter : public DeploymentRouter {
 public:
  explicit CountingRouter(DeploymentRouter* inner) : inner_(inner) {}
  absl::StatusOr<std::string> Route(const std::string& namespace_,
                                    const std::string& release) override {
    ++routed;
    return inner_->Route(namespace_, release);
  }
  int routed = 0;

 private:
  DeploymentRouter* const inner_;
};

// The deployments the policies cover that no live replica owns (their
// agents connected nowhere) are claimed too, but only from the time given
// (after the agents had a chance to spread them); those owned here or by
// a live replica are left.
TEST(OrphanAdoptionTest, ClaimsCoveredDeploymentsNobodyOwnsAfterTheGrace) {
  testing::MemoryCatalog catalog;
  ReplicaCatalog& replicas = catalog.replicas();
  ASSERT_TRUE(replicas.RegisterReplica({"live", "10.0.0.2:7443"}, 60'000).ok());
  ASSERT_TRUE(replicas.ClaimDeployment("ns", "theirs", "live").ok());
  ASSERT_TRUE(replicas.CompleteTakeover("ns", "theirs", "live").ok());
  auto lease =
      ReplicaLease::Start(&replicas, {"me", "10.0.0.1:7443"},
                          &common::RealTime(), [](const absl::Status&) {});
  ASSERT_TRUE(lease.ok()) << lease.status();
  std::vector<std::string> taken;
  LeaseRouter router(lease->get(),
                     [&](const std::string& ns, const std::string& release,
                         const std::string&) {
                       taken.push_back(ns + "/" + release);
                       return absl::OkStatus();
                     });
  ReplicaLease* mine = lease->get();
  CountingRouter counting(&router);
  const absl::Time start = absl::Now();
  OrphanAdoptionTask task(
      &catalog, &counting, &replicas,
      [] {
        return std::vector<std::pair<std::string, std::string>>{
            {"ns", "theirs"}, {"ns", "nobodys"}};
      },
      start + absl::Seconds(90));
  task.Run(start);
  EXPECT_TRUE(taken.empty()) << "within the grace";
  task.Run(start + absl::Seconds(90));
  EXPECT_EQ(taken, std::vector<std::string>{"ns/nobodys"});
  EXPECT_TRUE(mine->Owns("ns", "nobodys"));
  EXPECT_FALSE(mine->Owns("ns", "theirs"));
  task.Run(start + absl::Seconds(100));
  EXPECT_EQ(taken.size(), 1u) << "claimed once";
  EXPECT_EQ(counting.routed, 1)
      << "what a live replica owns (another, or this one) is not routed";
}

}  // namespace
}  // namespace dxbackup::scheduler
