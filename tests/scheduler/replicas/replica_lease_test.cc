// ReplicaLease on simulated time, over the in-memory ReplicaCatalog whose
// clock is the same: renewals keep the lease; a replica that cannot renew
// stops trusting itself (and is told to stop) before its lease lapses in
// the catalog, so before any other replica may take its deployments; a
// refused renewal stops it at once; a clean stop frees its deployments.
#include "scheduler/replicas/replica_lease.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "tests/support/fake_time_source.h"
#include "tests/support/memory_replica_catalog.h"

namespace dxbackup::scheduler {
namespace {

using std::chrono::seconds;

// The in-memory catalog, whose renewals fail as Unavailable while `down`
// (the catalog server unreachable).
class ReachableCatalog : public testing::MemoryReplicaCatalog {
 public:
  std::atomic<bool> down{false};
  std::atomic<int> renewals{0};

  absl::Status RenewReplica(const std::string& id, int64_t ttl_ms) override {
    if (down) return absl::UnavailableError("catalog server unreachable");
    ++renewals;
    return MemoryReplicaCatalog::RenewReplica(id, ttl_ms);
  }
};

class ReplicaLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_.SetClock([this] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 time_.Now().time_since_epoch())
          .count();
    });
    ASSERT_TRUE(
        catalog_.RegisterReplica({"b", "10.0.0.2:7443"}, 3'600'000).ok());
  }

  std::unique_ptr<ReplicaLease> StartA() {
    auto lease = ReplicaLease::Start(&catalog_, {"a", "10.0.0.1:7443"}, &time_,
                                     [this](const absl::Status& why) {
                                       ++lost_;
                                       lost_why_ = why.ToString();
                                     });
    EXPECT_TRUE(lease.ok()) << lease.status();
    if (!lease.ok()) return nullptr;
    // Both of its threads wait for time.
    EXPECT_TRUE(time_.AwaitWaiters(2));
    return *std::move(lease);
  }

  // Moves time on by `by`, then waits until the threads that woke wait
  // again.
  void Step(seconds by) {
    size_t woken = 0;
    const uint64_t round = time_.Advance(by, &woken);
    ASSERT_TRUE(time_.AwaitWaiters(woken, round));
  }

  bool ALive() {
    auto live = catalog_.LiveReplicas();
    EXPECT_TRUE(live.ok());
    for (const auto& r : *live) {
      if (r.id == "a") return true;
    }
    return false;
  }

  testing::FakeTimeSource time_;
  ReachableCatalog catalog_;
  std::atomic<int> lost_{0};
  std::string lost_why_;
};

TEST_F(ReplicaLeaseTest, RenewalsKeepTheLeaseAndItsDeployments) {
  auto a = StartA();
  ASSERT_NE(a, nullptr);
  auto owner = a->Claim("ns", "dx");
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_TRUE(owner->claimed);
  // Not its own to act on until it has taken it over.
  EXPECT_FALSE(a->Owns("ns", "dx"));
  ASSERT_TRUE(a->CompleteTakeover("ns", "dx").ok());
  EXPECT_TRUE(a->Owns("ns", "dx"));
  // Ten minutes: far past the lease, renewed every three seconds.
  for (int i = 0; i < 200; ++i) Step(seconds(3));
  EXPECT_GE(catalog_.renewals.load(), 200);
  EXPECT_TRUE(a->Trusted());
  EXPECT_TRUE(a->Owns("ns", "dx"));
  EXPECT_TRUE(ALive());
  EXPECT_EQ(lost_.load(), 0);
  // Another replica is told a owns it.
  auto other = catalog_.ClaimDeployment("ns", "dx", "b");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->replica_id, "a");
  EXPECT_EQ(other->address, "10.0.0.1:7443");
}

TEST_F(ReplicaLeaseTest, AReplicaThatCannotRenewStopsBeforeItsLeaseLapses) {
  auto a = StartA();
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Claim("ns", "dx").ok());
  ASSERT_TRUE(a->CompleteTakeover("ns", "dx").ok());
  Step(seconds(3));  // a renewal, sent at 3 s
  catalog_.down = true;
  // Until 3 s + kTrustFor it goes on trusting that renewal.
  for (int t = 4; t < 3 + 14; ++t) {
    Step(seconds(1));
    ASSERT_TRUE(a->Owns("ns", "dx")) << "at " << t << " s";
  }
  Step(seconds(1));  // 17 s
  EXPECT_FALSE(a->Trusted());
  EXPECT_FALSE(a->Owns("ns", "dx"));
  EXPECT_EQ(lost_.load(), 1);
  EXPECT_NE(lost_why_.find("replica a renewed its lease"), std::string::npos)
      << lost_why_;
  EXPECT_EQ(a->Claim("ns", "other").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // It has stopped, yet its lease still lives in the catalog: nobody has
  // taken its deployment over before it stopped acting.
  EXPECT_TRUE(ALive());
  auto early = catalog_.ClaimDeployment("ns", "dx", "b");
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->replica_id, "a");
  // Then the lease lapses, and b takes the deployment over, told whose
  // it was.
  for (int t = 18; t < 3 + 20; ++t) {
    Step(seconds(1));
    EXPECT_TRUE(ALive()) << "at " << t << " s";
  }
  Step(seconds(1));  // 23 s: 20 s after the last renewal
  EXPECT_FALSE(ALive());
  auto taken = catalog_.ClaimDeployment("ns", "dx", "b");
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(taken->claimed);
  EXPECT_EQ(taken->previous, "a");
  // The catalog coming back does not bring a back.
  catalog_.down = false;
  for (int i = 0; i < 3; ++i) Step(seconds(3));
  EXPECT_FALSE(a->Trusted());
  EXPECT_EQ(lost_.load(), 1);
}

TEST_F(ReplicaLeaseTest, ARefusedRenewalStopsItAtOnce) {
  auto a = StartA();
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Claim("ns", "dx").ok());
  ASSERT_TRUE(a->CompleteTakeover("ns", "dx").ok());
  // Its lease ended in the catalog (as when it lapsed while this process
  // was frozen): the next renewal is refused.
  ASSERT_TRUE(catalog_.MemoryReplicaCatalog::RenewReplica("a", -1).ok());
  const uint64_t round = time_.Advance(seconds(3));
  // The renewer was refused; the watchdog, told, reported the loss, and
  // both wait again.
  ASSERT_TRUE(time_.AwaitWaiters(2, round));
  EXPECT_EQ(lost_.load(), 1);
  EXPECT_FALSE(a->Owns("ns", "dx"));
  EXPECT_NE(lost_why_.find("lapsed"), std::string::npos) << lost_why_;
}

TEST_F(ReplicaLeaseTest, AClaimOfAnotherReplicasDeploymentNamesIt) {
  ASSERT_TRUE(catalog_.ClaimDeployment("ns", "dam", "b").ok());
  ASSERT_TRUE(catalog_.CompleteTakeover("ns", "dam", "b").ok());
  auto a = StartA();
  ASSERT_NE(a, nullptr);
  auto owner = a->Claim("ns", "dam");
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_FALSE(owner->claimed);
  EXPECT_EQ(owner->replica_id, "b");
  EXPECT_EQ(owner->address, "10.0.0.2:7443");
  EXPECT_FALSE(a->Owns("ns", "dam"));
}

TEST_F(ReplicaLeaseTest, ACleanStopFreesItsDeploymentsAtOnce) {
  auto a = StartA();
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Claim("ns", "dx").ok());
  ASSERT_TRUE(a->Claim("ns", "dam").ok());
  ASSERT_TRUE(a->CompleteTakeover("ns", "dam").ok());
  ASSERT_TRUE(a->Owns("ns", "dam"));
  ASSERT_TRUE(a->Release("ns", "dam").ok());
  EXPECT_FALSE(a->Owns("ns", "dam"));
  a.reset();
  EXPECT_FALSE(ALive());
  for (const std::string release : {"dx", "dam"}) {
    auto owner = catalog_.ClaimDeployment("ns", release, "b");
    ASSERT_TRUE(owner.ok());
    EXPECT_TRUE(owner->claimed) << release;
    EXPECT_EQ(owner->previous, "") << release;
  }
  EXPECT_EQ(lost_.load(), 0);
}

TEST(ReplicaLeaseIdTest, EachProcessIsANewReplicaNamedForItsHost) {
  const std::string first = ReplicaLease::NewId("dxbackup-scheduler-0");
  EXPECT_EQ(first.rfind("dxbackup-scheduler-0-", 0), 0u) << first;
  EXPECT_NE(first, ReplicaLease::NewId("dxbackup-scheduler-0"));
}

}  // namespace
}  // namespace dxbackup::scheduler
