// Which sets a stopped scheduler left owing their deployments the
// post-hooks: those whose pre-hooks began and whose post-hooks did not all
// succeed.
#include "scheduler/periodic/owed_post_hooks_task.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/jobs/job_board.h"
#include "tests/support/fake_time_source.h"
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

// A debt handed over later (a replica taking a deployment over) waits for
// its agents from when it was handed over, not from the task's start.
TEST(OwedPostHooksTaskTest, ALaterDebtWaitsForItsAgentsFromWhenItCame) {
  testing::MemoryCatalog catalog;
  testing::FakeTimeSource time;
  AgentRegistry registry(&catalog, &time);
  JobBoard board(&catalog, &catalog, &time);
  v1::SchedulerConfig config;
  v1::BackupSet set;
  set.set_id("s1");
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_status(v1::SET_FAILED);
  set.set_reason(kStoppedWhileRunning);
  ASSERT_TRUE(catalog.CreateSet(set).ok());
  const absl::Time start = absl::FromChrono(time.Now());
  OwedPostHooksTask task({&config, &registry, &board, &catalog, &time}, {},
                         start, absl::Minutes(10));
  EXPECT_EQ(task.NextDue(start), absl::InfiniteFuture());
  const absl::Time later = start + absl::Hours(1);
  task.Owe({{set, {"dx-core-0"}}}, later);
  EXPECT_EQ(task.NextDue(later), later + absl::Seconds(5));
  // Its agent is not back: past the task's own wait, within the debt's.
  task.Run(later + absl::Minutes(9));
  task.Stop();  // joins whatever started
  EXPECT_EQ(catalog.GetSet("s1")->reason(), kStoppedWhileRunning);

  OwedPostHooksTask again({&config, &registry, &board, &catalog, &time}, {},
                          start, absl::Minutes(10));
  again.Owe({{set, {"dx-core-0"}}}, later);
  again.Run(later + absl::Minutes(10));  // its wait is over
  again.Stop();
  EXPECT_NE(catalog.GetSet("s1")->reason().find(
                "did not come back in time: start DX there by hand"),
            std::string::npos)
      << catalog.GetSet("s1")->reason();
}

}  // namespace
}  // namespace dxbackup::scheduler
