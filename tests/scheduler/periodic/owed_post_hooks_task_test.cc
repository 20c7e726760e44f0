// Which sets a stopped scheduler left owing their deployments the
// post-hooks: those whose pre-hooks began and whose post-hooks did not all
// succeed.
#include "scheduler/periodic/owed_post_hooks_task.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/memory_catalog.h"

namespace dxbackup::scheduler {
namespace {

class SetsOwingPostHooksTest : public ::testing::Test {
 protected:
  void AddSet(const std::string& id, v1::SetStatus status,
              std::vector<std::pair<std::string, v1::JobStatus>> hooks,
              const std::string& reason = "", int64_t started = 1000) {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_("ns");
    set.set_release(id);
    set.set_status(status);
    set.set_reason(reason);
    set.set_started_unix(started);
    ASSERT_TRUE(catalog_.CreateSet(set).ok());
    int n = 0;
    for (const auto& [target, job_status] : hooks) {
      v1::Job job;
      job.set_id(id + "." + std::to_string(++n));
      job.set_set_id(id);
      job.set_kind(v1::JOB_HOOK);
      job.set_target(target);
      job.set_status(job_status);
      ASSERT_TRUE(catalog_.UpsertJob(job).ok());
    }
  }
  std::vector<std::string> Owing() {
    auto owing = SetsOwingPostHooks(&catalog_, &catalog_, 500);
    EXPECT_TRUE(owing.ok()) << owing.status();
    std::vector<std::string> ids;
    if (owing.ok()) {
      for (const OwedPostHooks& o : *owing) {
        ids.push_back(o.set.id() + ":" + absl::StrJoin(o.pods, ","));
      }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  testing::MemoryCatalog catalog_;
};

TEST_F(SetsOwingPostHooksTest, OnlyRunningSetsWhosePreHooksBegan) {
  AddSet("a-stopped", v1::SET_RUNNING,
         {{"pre-hook/stop@p", v1::JOB_SUCCEEDED},
          {"post-hook/start@p", v1::JOB_PENDING}});
  AddSet("b-stopping", v1::SET_RUNNING,
         {{"pre-hook/stop@p", v1::JOB_RUNNING},
          {"post-hook/start@p", v1::JOB_PENDING}});
  AddSet("c-half-started", v1::SET_RUNNING,
         {{"pre-hook/stop@p", v1::JOB_SUCCEEDED},
          {"post-hook/start@p", v1::JOB_SUCCEEDED},
          {"post-hook/start@q", v1::JOB_RUNNING}});
  AddSet("d-not-begun", v1::SET_RUNNING,
         {{"pre-hook/stop@p", v1::JOB_PENDING},
          {"post-hook/start@p", v1::JOB_PENDING}});
  AddSet("e-started-again", v1::SET_RUNNING,
         {{"pre-hook/stop@p", v1::JOB_SUCCEEDED},
          {"post-hook/start@p", v1::JOB_SUCCEEDED}});
  AddSet("f-ended", v1::SET_FAILED,
         {{"pre-hook/stop@p", v1::JOB_SUCCEEDED},
          {"post-hook/start@p", v1::JOB_FAILED}});
  AddSet("g-no-hooks", v1::SET_RUNNING, {});
  EXPECT_EQ(Owing(), (std::vector<std::string>{"a-stopped:p", "b-stopping:p",
                                               "c-half-started:p"}));
}

// The pods are those whose pre-hooks began; a debt outlives the set being
// failed, until its note says it was paid.
TEST_F(SetsOwingPostHooksTest, ThePodsStoppedAndTheDebtsNotYetPaid) {
  AddSet("a-two-pods", v1::SET_RUNNING,
         {{"pre-hook/stop@core-0", v1::JOB_SUCCEEDED},
          {"pre-hook/stop@core-1", v1::JOB_RUNNING},
          {"pre-hook/stop@core-2", v1::JOB_PENDING}});
  AddSet("b-failed-unpaid", v1::SET_FAILED,
         {{"pre-hook/stop@p", v1::JOB_FAILED}}, kStoppedWhileRunning);
  AddSet("c-failed-paid", v1::SET_FAILED, {{"pre-hook/stop@p", v1::JOB_FAILED}},
         absl::StrCat(kStoppedWhileRunning, kOwedPostHooksRan, "x ok"));
  AddSet("d-failed-otherwise", v1::SET_FAILED,
         {{"pre-hook/stop@p", v1::JOB_FAILED}}, "core/profile: agent gone");
  AddSet("e-failed-long-ago", v1::SET_FAILED,
         {{"pre-hook/stop@p", v1::JOB_FAILED}}, kStoppedWhileRunning, 100);
  EXPECT_EQ(Owing(), (std::vector<std::string>{"a-two-pods:core-0,core-1",
                                               "b-failed-unpaid:p"}));
}

}  // namespace
}  // namespace dxbackup::scheduler
