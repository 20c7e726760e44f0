#include "scheduler/periodic/policy_verifier.h"

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1800000000);  // 08:00 UTC

class PolicyVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Policy* policy = config_.add_policies();
    policy->set_name("nightly");
    policy->mutable_verify()->set_schedule("@daily");
    config_.add_policies()->set_name("unverified");
    auto catalog = SqliteCatalog::Open(dir_ / "catalog.db");
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(*catalog);
    store_ = std::make_unique<testing::MemoryStore>();
  }

  // A set with one stored, intact artifact.
  void AddSet(const std::string& id, const std::string& policy,
              v1::SetStatus status = v1::SET_COMPLETE,
              const std::string& ns = "ns") {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_(ns);
    set.set_release("dx");
    set.set_policy(policy);
    set.set_status(status);
    set.set_started_unix(1700000000);
    ASSERT_TRUE(catalog_->CreateSet(set).ok());
    v1::Artifact a;
    a.set_set_id(id);
    a.set_target("core/profile");
    a.set_kind(v1::ARTIFACT_VOLUME_TAR);
    a.set_path(ArtifactStore::RelativePath(ns, "dx", id, "p.tar.zst"));
    const std::string bytes = "bytes of " + id;
    ASSERT_TRUE(testing::PutObject(*store_, a.path(), bytes).ok());
    a.set_bytes(bytes.size());
    common::Sha256 digest;
    digest.Update(bytes);
    a.set_sha256(digest.HexDigest());
    ASSERT_TRUE(catalog_->AddArtifact(a).ok());
  }

  v1::Verification VerificationOf(const std::string& id) {
    return catalog_->GetSet(id)->verification();
  }

  testing::TempDir dir_;
  v1::SchedulerConfig config_;
  common::SystemClock clock_;
  crypto::KeyRing keys_;  // none: sets in clear
  std::unique_ptr<SqliteCatalog> catalog_;
  std::unique_ptr<testing::MemoryStore> store_;
};

TEST_F(PolicyVerifierTest, VerifiesThePolicysCompleteSetsOncePerSlot) {
  AddSet("old", "nightly");
  AddSet("new", "nightly");
  AddSet("broken", "nightly", v1::SET_FAILED);
  AddSet("other", "unverified");
  PolicyVerifier verifier(config_, catalog_.get(), catalog_.get(), store_.get(),
                          &clock_, &keys_);
  ASSERT_TRUE(verifier.Load(kStart).ok());
  EXPECT_EQ(verifier.NextDue(kStart), kStart + absl::Hours(16));

  EXPECT_EQ(verifier.RunDue(kStart + absl::Hours(15)), 0) << "not yet due";
  EXPECT_EQ(verifier.RunDue(kStart + absl::Hours(16)), 2);
  EXPECT_EQ(VerificationOf("old").result(), v1::Verification::VERIFIED);
  EXPECT_EQ(VerificationOf("new").result(), v1::Verification::VERIFIED);
  EXPECT_FALSE(VerificationOf("new").deep());
  EXPECT_EQ(VerificationOf("broken").result(),
            v1::Verification::RESULT_UNSPECIFIED);
  EXPECT_EQ(VerificationOf("other").result(),
            v1::Verification::RESULT_UNSPECIFIED);
  EXPECT_EQ(verifier.RunDue(kStart + absl::Hours(17)), 0) << "slot taken";

  // Bit rot, then three days down: the missed slots give one run.
  store_->Corrupt(ArtifactStore::RelativePath("ns", "dx", "old", "p.tar.zst"),
                  "bytes of oLd");
  const absl::Time later = kStart + absl::Hours(16 + 72 + 1);
  EXPECT_EQ(verifier.RunDue(later), 2);
  EXPECT_EQ(VerificationOf("old").result(), v1::Verification::CORRUPT);
  EXPECT_NE(VerificationOf("old").detail().find("core/profile: SHA-256"),
            std::string::npos)
      << VerificationOf("old").detail();
  EXPECT_EQ(VerificationOf("new").result(), v1::Verification::VERIFIED);

  // A restart neither repeats the slot taken nor forgets the schedule.
  PolicyVerifier restarted(config_, catalog_.get(), catalog_.get(),
                           store_.get(), &clock_, &keys_);
  ASSERT_TRUE(restarted.Load(later).ok());
  EXPECT_EQ(restarted.RunDue(later + absl::Hours(1)), 0);
  EXPECT_EQ(restarted.RunDue(later + absl::Hours(24)), 2);
  v1::ListPoliciesResponse described;
  described.add_policies()->set_name("nightly");
  described.add_policies()->set_name("unverified");
  restarted.Describe(&described, later + absl::Hours(24));
  EXPECT_EQ(described.policies(0).verify_schedule(), "@daily");
  EXPECT_EQ(described.policies(0).last_verify_slot_unix(),
            absl::ToUnixSeconds(kStart + absl::Hours(16 + 96)));
  EXPECT_EQ(described.policies(1).verify_schedule(), "");
}

// Active replicas: each verifies at every slot the sets of the deployments
// it owns (its leases keep its own pruning off them), whichever of them
// recorded the slot first.
TEST_F(PolicyVerifierTest, ReplicasEachVerifyTheirOwnDeploymentsSets) {
  AddSet("mine", "nightly", v1::SET_COMPLETE, "ns");
  AddSet("theirs", "nightly", v1::SET_COMPLETE, "other");
  PolicyVerifier first(config_, catalog_.get(), catalog_.get(), store_.get(),
                       &clock_, &keys_);
  PolicyVerifier second(config_, catalog_.get(), catalog_.get(), store_.get(),
                        &clock_, &keys_);
  first.LimitTo(
      [](const std::string& ns, const std::string&) { return ns == "ns"; });
  second.LimitTo(
      [](const std::string& ns, const std::string&) { return ns == "other"; });
  ASSERT_TRUE(first.Load(kStart).ok());
  ASSERT_TRUE(second.Load(kStart).ok());
  EXPECT_EQ(first.RunDue(kStart + absl::Hours(16)), 1);
  EXPECT_EQ(VerificationOf("theirs").result(),
            v1::Verification::RESULT_UNSPECIFIED)
      << "not another replica's";
  EXPECT_EQ(second.RunDue(kStart + absl::Hours(16)), 1);
  EXPECT_EQ(VerificationOf("theirs").result(), v1::Verification::VERIFIED);
  EXPECT_EQ(first.RunDue(kStart + absl::Hours(17)), 0) << "once per slot";
}

TEST_F(PolicyVerifierTest, DeepVerificationIsRecordedAsDeep) {
  config_.mutable_policies(0)->mutable_verify()->set_deep(true);
  AddSet("s", "nightly");
  PolicyVerifier verifier(config_, catalog_.get(), catalog_.get(), store_.get(),
                          &clock_, &keys_);
  ASSERT_TRUE(verifier.Load(kStart).ok());
  verifier.StartDue(kStart + absl::Hours(16));
  verifier.Join();
  // The stand-in artifact is no tar: a deep check reads it and says so.
  EXPECT_TRUE(VerificationOf("s").deep());
  EXPECT_EQ(VerificationOf("s").result(), v1::Verification::CORRUPT);
  EXPECT_NE(VerificationOf("s").detail().find("not a readable tar"),
            std::string::npos)
      << VerificationOf("s").detail();
}

}  // namespace
}  // namespace dxbackup::scheduler
