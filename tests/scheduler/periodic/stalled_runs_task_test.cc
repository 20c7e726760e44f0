// Stalled volume jobs on simulated time: a running backup or restore whose
// agent reports no progress for stall_seconds fails at the first tick after
// that, with DEADLINE_EXCEEDED; progress restarts the count; hooks (which
// have their own timeout) never stall.
#include "scheduler/periodic/stalled_runs_task.h"

#include <gtest/gtest.h>

#include "scheduler/jobs/job_board.h"
#include "tests/scheduler/periodic/periodic_fixture.h"

namespace dxbackup::scheduler {
namespace {

class StalledRunsTaskTest : public PeriodicTest {
 protected:
  void SetUp() override {
    PeriodicTest::SetUp();
    v1::BackupSet set;
    set.set_id("set1");
    set.set_status(v1::SET_RUNNING);
    ASSERT_TRUE(catalog_->CreateSet(set).ok());
    board_ = std::make_unique<JobBoard>(catalog_.get(), catalog_.get(), &time_);
  }

  void AddRunning(const std::string& id, v1::JobKind kind) {
    v1::Job job;
    job.set_id(id);
    job.set_set_id("set1");
    job.set_kind(kind);
    job.set_target("core/" + id);
    ASSERT_TRUE(board_->Add(job, {}, nullptr).ok());
    board_->MarkRunning(id, "ns/dx/core-0", /*session=*/1);
  }

  std::unique_ptr<JobBoard> board_;
};

TEST_F(StalledRunsTaskTest, AVolumeJobSilentForStallSecondsFails) {
  config_.set_stall_seconds(300);
  AddRunning("stuck", v1::JOB_VOLUME_BACKUP);
  AddRunning("busy", v1::JOB_VOLUME_RESTORE);
  AddRunning("hook", v1::JOB_HOOK);
  StalledRunsTask stalled(config_, board_.get());
  ticker_.Register(&stalled);
  StartTicking();

  Pass(absl::Seconds(250));
  ASSERT_TRUE(board_->Progress(1, "busy", 1 << 20, 10).ok());
  Pass(absl::Seconds(45));
  EXPECT_TRUE(board_->IsRunning("stuck")) << "silent 295 s of 300";
  Pass(StalledRunsTask::kEvery);
  EXPECT_FALSE(board_->IsRunning("stuck")) << "silent 300 s";
  EXPECT_TRUE(board_->IsRunning("busy")) << "its progress restarted the count";

  Pass(absl::Seconds(250));
  EXPECT_FALSE(board_->IsRunning("busy")) << "silent 300 s since progress";
  EXPECT_TRUE(board_->IsRunning("hook")) << "hooks have their own timeout";

  std::vector<v1::Job> ended = board_->WaitAndRemove({"stuck", "busy"});
  ASSERT_EQ(ended.size(), 2u);
  for (const v1::Job& job : ended) {
    EXPECT_EQ(job.status(), v1::JOB_FAILED) << job.id();
    EXPECT_EQ(job.error_code(), "DEADLINE_EXCEEDED") << job.id();
    EXPECT_NE(job.error().find("reported no progress for 300 s"),
              std::string::npos)
        << job.error();
  }
}

TEST_F(StalledRunsTaskTest, TheDefaultStallIsTenMinutes) {
  AddRunning("stuck", v1::JOB_VOLUME_BACKUP);
  StalledRunsTask stalled(config_, board_.get());
  ticker_.Register(&stalled);
  StartTicking();
  Pass(absl::Seconds(595));
  EXPECT_TRUE(board_->IsRunning("stuck"));
  Pass(StalledRunsTask::kEvery);
  EXPECT_FALSE(board_->IsRunning("stuck"));
}

}  // namespace
}  // namespace dxbackup::scheduler
