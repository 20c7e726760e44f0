// Scheduled verification on simulated time: the ticker starts a policy's
// verification at its slot, which falls mid-test, and not a tick before.
#include "scheduler/periodic/verify_task.h"

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "tests/scheduler/periodic/periodic_fixture.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"

namespace dxbackup::scheduler {
namespace {

TEST_F(PeriodicTest, VerificationStartsAtThePolicysSlot) {
  v1::Policy* policy = config_.add_policies();
  policy->set_name("nightly");
  policy->mutable_verify()->set_schedule("@daily");  // fixture: 08:00 UTC
  v1::BackupSet set;
  set.set_id("s1");
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_policy("nightly");
  set.set_status(v1::SET_COMPLETE);
  ASSERT_TRUE(catalog_->CreateSet(set).ok());
  testing::MemoryStore store;
  v1::Artifact artifact;
  artifact.set_set_id("s1");
  artifact.set_target("core/profile");
  artifact.set_kind(v1::ARTIFACT_VOLUME_TAR);
  artifact.set_path(ArtifactStore::RelativePath("ns", "dx", "s1", "p.tar"));
  const std::string bytes = "the profile";
  ASSERT_TRUE(testing::PutObject(store, artifact.path(), bytes).ok());
  artifact.set_bytes(bytes.size());
  common::Sha256 digest;
  digest.Update(bytes);
  artifact.set_sha256(digest.HexDigest());
  ASSERT_TRUE(catalog_->AddArtifact(artifact).ok());

  const crypto::KeyRing no_keys;
  PolicyVerifier verifier(config_, catalog_.get(), catalog_.get(), &store,
                          &time_, &no_keys);
  ASSERT_TRUE(verifier.Load(Now()).ok());
  VerifyTask verify(&verifier);
  ticker_.Register(&verify);
  StartTicking();
  auto result = [&] {
    verifier.Join();
    return catalog_->GetSet("s1")->verification().result();
  };
  Pass(absl::Hours(15) + absl::Minutes(59));
  EXPECT_EQ(result(), v1::Verification::RESULT_UNSPECIFIED) << "23:59";
  Pass(absl::Minutes(1));
  EXPECT_EQ(result(), v1::Verification::VERIFIED) << "midnight";
  ticker_.Stop();
  verifier.Join();
}

}  // namespace
}  // namespace dxbackup::scheduler
