#include "scheduler/jobs/job_board.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

using testing::FakeClock;

class JobBoardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = SqliteCatalog::Open(dir_ / "catalog.db");
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(*catalog);
    v1::BackupSet set;
    set.set_id("set1");
    set.set_status(v1::SET_RUNNING);
    ASSERT_TRUE(catalog_->CreateSet(set).ok());
    board_ =
        std::make_unique<JobBoard>(catalog_.get(), catalog_.get(), &clock_);
  }

  // A job given to agent connection `session`.
  void AddRunning(const std::string& id, v1::JobKind kind,
                  uint64_t session = 1) {
    v1::Job job;
    job.set_id(id);
    job.set_set_id("set1");
    job.set_kind(kind);
    job.set_target("core/" + id);
    ASSERT_TRUE(board_->Add(job, {}, std::make_shared<RunEvents>()).ok());
    board_->MarkRunning(id, "agent-" + id, session);
  }

  void Pass(int seconds) { clock_.now += std::chrono::seconds(seconds); }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SqliteCatalog> catalog_;
  std::unique_ptr<JobBoard> board_;
};

TEST_F(JobBoardTest, VolumeJobsWithoutProgressForTheStallTimeFail) {
  AddRunning("busy", v1::JOB_VOLUME_BACKUP);
  AddRunning("stuck", v1::JOB_VOLUME_BACKUP);
  AddRunning("restore", v1::JOB_VOLUME_RESTORE);
  AddRunning("hook", v1::JOB_HOOK);  // hooks have their own timeout
  Pass(250);
  ASSERT_TRUE(board_->Progress(1, "busy", 1 << 20, 10).ok());
  EXPECT_TRUE(board_->FailStalled(300).empty());
  Pass(100);
  EXPECT_EQ(board_->FailStalled(300),
            (std::vector<std::string>{"restore", "stuck"}));
  EXPECT_TRUE(board_->IsRunning("busy"));
  EXPECT_TRUE(board_->IsRunning("hook"));
  std::vector<v1::Job> ended = board_->WaitAndRemove({"stuck"});
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].status(), v1::JOB_FAILED);
  EXPECT_NE(ended[0].error().find("agent agent-stuck reported no progress "
                                  "for 300 s"),
            std::string::npos)
      << ended[0].error();
  auto stored = catalog_->ListJobs("set1");
  ASSERT_TRUE(stored.ok());
  bool recorded = false;
  for (const v1::Job& j : *stored) {
    if (j.id() == "stuck") recorded = j.status() == v1::JOB_FAILED;
  }
  EXPECT_TRUE(recorded) << "the failure is in the catalog";
}

TEST_F(JobBoardTest, OnlyTheSessionAJobWasGivenToReportsOnIt) {
  AddRunning("hook", v1::JOB_HOOK, /*session=*/7);
  AddRunning("dump", v1::JOB_DATABASE_BACKUP, /*session=*/0);
  v1::JobResult ok;
  ok.set_job_id("hook");
  ok.set_ok(true);
  EXPECT_TRUE(absl::IsPermissionDenied(board_->ReportResult(8, ok)));
  EXPECT_TRUE(absl::IsPermissionDenied(board_->Progress(8, "hook", 5, 1)));
  EXPECT_TRUE(board_->IsRunning("hook"));
  // The scheduler's own jobs take no report from any agent.
  ok.set_job_id("dump");
  EXPECT_TRUE(absl::IsPermissionDenied(board_->ReportResult(7, ok)));
  EXPECT_TRUE(board_->IsRunning("dump"));
  // Unknown jobs are NotFound, not an error to shout about.
  ok.set_job_id("nothing");
  EXPECT_TRUE(absl::IsNotFound(board_->ReportResult(7, ok)));

  ok.set_job_id("hook");
  EXPECT_TRUE(board_->ReportResult(7, ok).ok());
  std::vector<v1::Job> ended = board_->WaitAndRemove({"hook"});
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].status(), v1::JOB_SUCCEEDED);
}

TEST_F(JobBoardTest, AVolumeBackupEndsByItsUploadNotByAReport) {
  AddRunning("backup", v1::JOB_VOLUME_BACKUP, /*session=*/3);
  v1::JobResult ok;
  ok.set_job_id("backup");
  ok.set_ok(true);
  EXPECT_TRUE(board_->ReportResult(3, ok).ok());
  EXPECT_TRUE(board_->IsRunning("backup"));
}

// A review found that the scheduler's own database jobs (agent id
// "scheduler" once running) took uploads and served downloads: without
// tokens any caller could read a restore's decrypted dump.
TEST_F(JobBoardTest, OnlyDatabaseJobsPlannedForAnAgentTakeUploadsOrDownloads) {
  for (v1::JobKind kind : {v1::JOB_DATABASE_BACKUP, v1::JOB_DATABASE_RESTORE}) {
    const std::string own = "own-" + v1::JobKind_Name(kind);
    v1::Job job;
    job.set_id(own);
    job.set_set_id("set1");
    job.set_kind(kind);
    job.set_target("db/ledger");
    ASSERT_TRUE(board_->Add(job, {}, std::make_shared<RunEvents>()).ok());
    board_->MarkRunning(own, "scheduler");
    const std::string agents = "agent-" + v1::JobKind_Name(kind);
    job.set_id(agents);
    job.set_agent_id("agent-7");
    ASSERT_TRUE(board_->Add(job, {}, std::make_shared<RunEvents>()).ok());
    board_->MarkRunning(agents, "agent-7", 7);
    if (kind == v1::JOB_DATABASE_BACKUP) {
      EXPECT_EQ(board_->BeginUpload(own).status().code(),
                absl::StatusCode::kFailedPrecondition);
      EXPECT_TRUE(board_->BeginUpload(agents).ok());
    } else {
      EXPECT_EQ(board_->RestoreSource(own).status().code(),
                absl::StatusCode::kNotFound);
      EXPECT_TRUE(board_->RestoreSource(agents).ok());
    }
  }
}

// A review found that an agent's report put its error and log into the
// catalog whole: up to the 4 MiB a message may carry, for every job.
TEST_F(JobBoardTest, AnAgentsErrorAndLogAreKeptToTheirEnds) {
  AddRunning("restore", v1::JOB_VOLUME_RESTORE, /*session=*/3);
  v1::JobResult failed;
  failed.set_job_id("restore");
  failed.set_ok(false);
  failed.set_error(std::string(1 << 20, 'e') + " the end of the error");
  failed.set_log(std::string(1 << 20, 'l') + " the end of the log");
  ASSERT_TRUE(board_->ReportResult(3, failed).ok());
  std::vector<v1::Job> jobs = board_->WaitAndRemove({"restore"});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_LE(jobs[0].error().size(), kMaxReportedErrorBytes + 32);
  EXPECT_LE(jobs[0].log().size(), kMaxReportedLogBytes + 32);
  EXPECT_TRUE(absl::EndsWith(jobs[0].error(), " the end of the error"));
  EXPECT_TRUE(absl::StartsWith(jobs[0].log(), "[983059 bytes cut] lll"))
      << jobs[0].log().substr(0, 40);
}

TEST_F(JobBoardTest, AClosedSessionFailsOnlyItsOwnJobs) {
  AddRunning("old", v1::JOB_VOLUME_RESTORE, /*session=*/1);
  AddRunning("new", v1::JOB_VOLUME_RESTORE, /*session=*/2);
  board_->FailSessionJobs(
      1, absl::UnavailableError("agent a reconnected while the job ran"));
  EXPECT_FALSE(board_->IsRunning("old"));
  EXPECT_TRUE(board_->IsRunning("new"));
}

}  // namespace
}  // namespace dxbackup::scheduler
