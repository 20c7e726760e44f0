// LeaseRouter over the in-memory ReplicaCatalog: a free deployment is
// claimed and taken over once before it is served here, however many
// callers ask at once; another live replica's is sent there; a lapsed
// replica's is taken over naming it; a takeover that failed is tried
// again at the next call rather than the deployment served half-recovered.
#include "scheduler/replicas/lease_router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/time_source.h"
#include "tests/support/memory_replica_catalog.h"

namespace dxbackup::scheduler {
namespace {

class LeaseRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        catalog_.RegisterReplica({"b", "10.0.0.2:7443"}, 3'600'000).ok());
    auto lease =
        ReplicaLease::Start(&catalog_, {"a", "10.0.0.1:7443"},
                            &common::RealTime(), [](const absl::Status&) {});
    ASSERT_TRUE(lease.ok()) << lease.status();
    lease_ = *std::move(lease);
  }

  testing::MemoryReplicaCatalog catalog_;
  std::unique_ptr<ReplicaLease> lease_;
};

TEST_F(LeaseRouterTest, AFreeDeploymentIsTakenOverOnceThenServedHere) {
  std::atomic<int> takeovers{0};
  std::atomic<bool> taken_over{false};
  LeaseRouter router(
      lease_.get(), [&](const std::string& ns, const std::string& release,
                        const std::string& previous) {
        EXPECT_EQ(ns + "/" + release, "ns/dx");
        EXPECT_EQ(previous, "");
        ++takeovers;
        // Slow enough that the other callers arrive meanwhile.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        taken_over = true;
        return absl::OkStatus();
      });
  std::vector<std::thread> callers;
  std::atomic<int> served_early{0}, told_to_retry{0};
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      // Those that come while it is taken over are told to try again.
      absl::StatusOr<std::string> routed;
      for (int tries = 0; tries < 100000; ++tries) {
        routed = router.Route("ns", "dx");
        if (!absl::IsUnavailable(routed.status())) break;
        ++told_to_retry;
        std::this_thread::yield();
      }
      ASSERT_TRUE(routed.ok()) << routed.status();
      EXPECT_EQ(*routed, "");
      if (!taken_over) ++served_early;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(takeovers.load(), 1);
  EXPECT_EQ(served_early.load(), 0);
  EXPECT_TRUE(lease_->Owns("ns", "dx"));
  // Claimed and taken over in the catalog too: a claim there owes nothing.
  auto owner = catalog_.ClaimDeployment("ns", "dx", "a");
  ASSERT_TRUE(owner.ok());
  EXPECT_FALSE(owner->claimed);
}

TEST_F(LeaseRouterTest, AnotherLiveReplicasDeploymentIsSentThere) {
  ASSERT_TRUE(catalog_.ClaimDeployment("ns", "dam", "b").ok());
  ASSERT_TRUE(catalog_.CompleteTakeover("ns", "dam", "b").ok());
  int takeovers = 0;
  LeaseRouter router(lease_.get(), [&](const std::string&, const std::string&,
                                       const std::string&) {
    ++takeovers;
    return absl::OkStatus();
  });
  auto routed = router.Route("ns", "dam");
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_EQ(*routed, "10.0.0.2:7443");
  EXPECT_EQ(takeovers, 0);
  EXPECT_FALSE(lease_->Owns("ns", "dam"));
}

TEST_F(LeaseRouterTest, ALapsedReplicasDeploymentIsTakenOverNamingIt) {
  ASSERT_TRUE(catalog_.ClaimDeployment("ns", "dam", "b").ok());
  ASSERT_TRUE(catalog_.CompleteTakeover("ns", "dam", "b").ok());
  ASSERT_TRUE(catalog_.RenewReplica("b", -1).ok());  // b's lease lapses
  std::string from;
  LeaseRouter router(lease_.get(), [&](const std::string&, const std::string&,
                                       const std::string& previous) {
    from = previous;
    return absl::OkStatus();
  });
  auto routed = router.Route("ns", "dam");
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_EQ(*routed, "");
  EXPECT_EQ(from, "b");
}

TEST_F(LeaseRouterTest, AFailedTakeoverIsTriedAgainBeforeServing) {
  std::vector<std::string> seen;
  bool fail = true;
  LeaseRouter router(lease_.get(), [&](const std::string&, const std::string&,
                                       const std::string& previous) {
    seen.push_back(previous);
    return fail ? absl::UnavailableError("the Kubernetes API is away")
                : absl::OkStatus();
  });
  ASSERT_TRUE(catalog_.ClaimDeployment("ns", "dx", "b").ok());
  ASSERT_TRUE(catalog_.CompleteTakeover("ns", "dx", "b").ok());
  ASSERT_TRUE(catalog_.RenewReplica("b", -1).ok());
  auto first = router.Route("ns", "dx");
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(first.status().message().find("taking ns/dx over"),
            std::string::npos)
      << first.status();
  EXPECT_FALSE(lease_->Owns("ns", "dx")) << "not served half taken over";
  fail = false;
  auto second = router.Route("ns", "dx");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "");
  // The second try still knew whose work it ends.
  EXPECT_EQ(seen, (std::vector<std::string>{"b", "b"}));
  auto third = router.Route("ns", "dx");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(lease_->Owns("ns", "dx"));
}

}  // namespace
}  // namespace dxbackup::scheduler
