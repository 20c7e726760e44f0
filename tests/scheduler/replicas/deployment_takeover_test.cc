// TakeOverDeployment ends what a replica that stopped left of the one
// deployment taken over, and nothing of any other: its running set fails
// naming that replica, with its unfinished jobs; the post-hooks it owes go
// to be run; its running restore's hold waits; its interrupted removal is
// finished; its orphans leave the store. Another deployment's running
// set, hold and objects are left as they are (another replica runs it).
#include "scheduler/replicas/deployment_takeover.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/support/fake_clock.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"

namespace dxbackup::scheduler {
namespace {

class DeploymentTakeoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    parts_.sets = &catalog_;
    parts_.jobs = &catalog_;
    parts_.store = &store_;
    parts_.kubernetes_api = &kubernetes_api_;
    parts_.clock = &clock_;
    parts_.owe = [this](std::vector<OwedPostHooks> owed) {
      for (OwedPostHooks& o : owed) owed_.push_back(std::move(o));
    };
    parts_.finish_removals = [this](const std::string& ns,
                                    const std::string& release) {
      finished_.push_back(ns + "/" + release);
      return absl::OkStatus();
    };
    // Each deployment: a complete set with its artifact and a stray
    // object beside it, a set running (its pre-hook done, its post-hook
    // and a volume job not), and a restore running in place.
    for (const std::string release : {"dx", "other"}) {
      AddSet(release + "-done", release, v1::SET_COMPLETE);
      AddArtifact(release + "-done", release);
      ASSERT_TRUE(testing::PutObject(
                      store_, "ns/" + release + "/" + release + "-done/stray",
                      "left by an upload")
                      .ok());
      AddSet(release + "-run", release, v1::SET_RUNNING);
      AddJob(release + "-run", 1, "pre-hook/stop@" + release + "-core-0",
             v1::JOB_SUCCEEDED);
      AddJob(release + "-run", 2, "core/profile", v1::JOB_RUNNING);
      AddJob(release + "-run", 3, "post-hook/start@" + release + "-core-0",
             v1::JOB_PENDING);
      v1::DeploymentHold hold;
      hold.set_namespace_("ns");
      hold.set_release(release);
      hold.set_set_id(release + "-done");
      hold.set_restore_id("R-" + release);
      hold.set_running(true);
      ASSERT_TRUE(catalog_.PutHold(hold).ok());
    }
  }

  void AddSet(const std::string& id, const std::string& release,
              v1::SetStatus status) {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_("ns");
    set.set_release(release);
    set.set_status(status);
    set.set_started_unix(clock_.NowUnix() - 600);
    ASSERT_TRUE(catalog_.CreateSet(set).ok());
  }
  void AddArtifact(const std::string& set, const std::string& release) {
    v1::Artifact a;
    a.set_set_id(set);
    a.set_target("core/profile");
    a.set_path("ns/" + release + "/" + set + "/core-profile.tar.zst");
    a.set_kind(v1::ARTIFACT_VOLUME_TAR);
    ASSERT_TRUE(catalog_.AddArtifact(a).ok());
    ASSERT_TRUE(testing::PutObject(store_, a.path(), "archive").ok());
  }
  void AddJob(const std::string& set, int n, const std::string& target,
              v1::JobStatus status) {
    v1::Job job;
    job.set_id(set + "." + std::to_string(n));
    job.set_set_id(set);
    job.set_kind(target.find("hook") != std::string::npos
                     ? v1::JOB_HOOK
                     : v1::JOB_VOLUME_BACKUP);
    job.set_target(target);
    job.set_status(status);
    ASSERT_TRUE(catalog_.UpsertJob(job).ok());
  }
  v1::BackupSet Set(const std::string& id) {
    auto set = catalog_.GetSet(id);
    EXPECT_TRUE(set.ok()) << set.status();
    return set.ok() ? *set : v1::BackupSet();
  }
  std::map<std::string, v1::JobStatus> JobsOf(const std::string& set) {
    std::map<std::string, v1::JobStatus> out;
    auto jobs = catalog_.ListJobs(set);
    EXPECT_TRUE(jobs.ok());
    for (const v1::Job& j : *jobs) out[j.target()] = j.status();
    return out;
  }
  bool HoldRunning(const std::string& release) {
    auto holds = catalog_.Holds();
    EXPECT_TRUE(holds.ok());
    for (const auto& h : *holds) {
      if (h.release() == release) return h.running();
    }
    ADD_FAILURE() << "no hold of " << release;
    return false;
  }
  std::vector<std::string> Keys(const std::string& prefix) {
    std::vector<std::string> keys;
    auto listed = store_.List(prefix);
    EXPECT_TRUE(listed.ok());
    for (const auto& o : *listed) keys.push_back(o.key);
    return keys;
  }

  testing::FakeClock clock_;
  testing::MemoryCatalog catalog_;
  testing::MemoryStore store_;
  v1::KubernetesApi kubernetes_api_;
  TakeoverParts parts_;
  std::vector<OwedPostHooks> owed_;
  std::vector<std::string> finished_;
};

TEST_F(DeploymentTakeoverTest, EndsWhatTheReplicaLeftOfThatDeploymentOnly) {
  ASSERT_TRUE(TakeOverDeployment(parts_, "ns", "dx", "r-old-1a2b").ok());

  const v1::BackupSet failed = Set("dx-run");
  EXPECT_EQ(failed.status(), v1::SET_FAILED);
  EXPECT_EQ(failed.reason().rfind(kStoppedWhileRunning, 0), 0u)
      << failed.reason();
  EXPECT_NE(failed.reason().find("scheduler replica r-old-1a2b"),
            std::string::npos)
      << failed.reason();
  EXPECT_EQ(failed.finished_unix(), clock_.NowUnix());
  EXPECT_EQ(JobsOf("dx-run"),
            (std::map<std::string, v1::JobStatus>{
                {"pre-hook/stop@dx-core-0", v1::JOB_SUCCEEDED},
                {"core/profile", v1::JOB_FAILED},
                {"post-hook/start@dx-core-0", v1::JOB_FAILED}}));
  // DX was stopped on dx-core-0: its post-hook is owed.
  ASSERT_EQ(owed_.size(), 1u);
  EXPECT_EQ(owed_[0].set.id(), "dx-run");
  EXPECT_EQ(owed_[0].pods, std::vector<std::string>{"dx-core-0"});
  EXPECT_FALSE(HoldRunning("dx"));
  EXPECT_EQ(finished_, std::vector<std::string>{"ns/dx"});
  EXPECT_EQ(Keys("ns/dx/"),
            std::vector<std::string>{"ns/dx/dx-done/core-profile.tar.zst"});

  // The other deployment is another replica's: untouched.
  EXPECT_EQ(Set("other-run").status(), v1::SET_RUNNING);
  EXPECT_EQ(JobsOf("other-run").at("core/profile"), v1::JOB_RUNNING);
  EXPECT_TRUE(HoldRunning("other"));
  EXPECT_EQ(Keys("ns/other/"), (std::vector<std::string>{
                                   "ns/other/other-done/core-profile.tar.zst",
                                   "ns/other/other-done/stray"}));
}

TEST_F(DeploymentTakeoverTest, ASecondTakeoverFindsTheUnpaidDebtAgain) {
  ASSERT_TRUE(TakeOverDeployment(parts_, "ns", "dx", "r-old-1a2b").ok());
  ASSERT_EQ(owed_.size(), 1u);
  // The replica that took over stopped before the hooks ran; the next
  // one owes them still (the failed set's reason does not say paid).
  owed_.clear();
  ASSERT_TRUE(TakeOverDeployment(parts_, "ns", "dx", "r-next-3c4d").ok());
  ASSERT_EQ(owed_.size(), 1u);
  EXPECT_EQ(owed_[0].set.id(), "dx-run");
  // Its reason names the replica that ran it, not the one after.
  EXPECT_NE(Set("dx-run").reason().find("r-old-1a2b"), std::string::npos);
}

// A policy's copy bucket: the multipart uploads its copies left
// unfinished under the deployment's prefix are aborted, and only those.
class UnfinishedUploads : public testing::MemoryStore {
 public:
  absl::StatusOr<std::vector<std::string>> RemoveUnfinished(
      const std::string& prefix) override {
    prefixes.push_back(prefix);
    return std::vector<std::string>{prefix + "dx-run/core-profile.tar.zst"};
  }
  std::vector<std::string> prefixes;
};

TEST_F(DeploymentTakeoverTest, AbortsTheCopyBucketsUnfinishedUploadsOfIt) {
  UnfinishedUploads bucket;
  const CopyStores copies = {{"nightly", &bucket}};
  parts_.copy_stores = &copies;
  ASSERT_TRUE(TakeOverDeployment(parts_, "ns", "dx", "r-old-1a2b").ok());
  EXPECT_EQ(bucket.prefixes, std::vector<std::string>{"ns/dx/"});
}

}  // namespace
}  // namespace dxbackup::scheduler
