// Which sets a stopped scheduler left owing their deployments the
// post-hooks: those whose pre-hooks began and whose post-hooks did not all
// succeed.
#include "scheduler/periodic/owed_post_hooks_task.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/memory_catalog.h"

namespace dxbackup::scheduler {
namespace {

class SetsOwingPostHooksTest : public ::testing::Test {
 protected:
  void AddSet(const std::string& id, v1::SetStatus status,
              std::vector<std::pair<std::string, v1::JobStatus>> hooks) {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_("ns");
    set.set_release(id);
    set.set_status(status);
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
    auto owing = SetsOwingPostHooks(&catalog_, &catalog_);
    EXPECT_TRUE(owing.ok()) << owing.status();
    std::vector<std::string> ids;
    if (owing.ok()) {
      for (const v1::BackupSet& s : *owing) ids.push_back(s.id());
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
  EXPECT_EQ(Owing(), (std::vector<std::string>{"a-stopped", "b-stopping",
                                               "c-half-started"}));
}

}  // namespace
}  // namespace dxbackup::scheduler
