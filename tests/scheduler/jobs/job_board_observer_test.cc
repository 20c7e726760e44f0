// The JobBoard as an in-memory state machine: observers see every job's
// changes in order, the catalog is written outside the board's lock (a
// hung catalog write holds up no read of the board), failures keep their
// status codes to the record, and an artifact being recorded takes no
// other end.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/jobs/job_observer.h"
#include "tests/support/fake_clock.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/notification.h"

namespace dxbackup::scheduler {
namespace {

// Holds the first write of job `held_job` (UpsertJob) or of any artifact
// (AddArtifact, when hold_artifacts) until `release`; `fail_artifacts`
// refuses artifacts.
class HeldCatalog : public testing::MemoryCatalog {
 public:
  absl::Status UpsertJob(const v1::Job& job) override {
    if (job.id() == held_job && !entered.HasBeenNotified()) {
      entered.Notify();
      release.WaitForNotification();
    }
    return MemoryCatalog::UpsertJob(job);
  }
  absl::Status AddArtifact(const v1::Artifact& artifact) override {
    if (fail_artifacts) return absl::ResourceExhaustedError("catalog full");
    if (hold_artifacts && !entered.HasBeenNotified()) {
      entered.Notify();
      release.WaitForNotification();
    }
    return MemoryCatalog::AddArtifact(artifact);
  }

  std::string held_job;
  bool hold_artifacts = false;
  bool fail_artifacts = false;
  testing::Notification entered, release;
};

// Records what it is told, and what the catalog held at the time.
class Recording : public JobObserver {
 public:
  explicit Recording(testing::MemoryCatalog* catalog) : catalog_(catalog) {}

  void OnJobChanged(JobChange change, const v1::Job& job) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string recorded = "-";
    auto jobs = catalog_->ListJobs(job.set_id());
    for (const v1::Job& j : *jobs) {
      if (j.id() == job.id()) recorded = v1::JobStatus_Name(j.status());
    }
    seen.push_back(absl::StrCat(job.id(), " ", Name(change), " ",
                                v1::JobStatus_Name(job.status()), " recorded ",
                                recorded));
  }
  void OnJobFailing(const std::string& job_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    seen.push_back(job_id + " failing");
  }
  std::vector<std::string> Seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen;
  }

 private:
  static const char* Name(JobChange change) {
    switch (change) {
      case JobChange::kAdded:
        return "added";
      case JobChange::kStarted:
        return "started";
      case JobChange::kProgress:
        return "progress";
      case JobChange::kEnded:
        return "ended";
    }
    return "?";
  }
  testing::MemoryCatalog* catalog_;
  std::mutex mu_;
  std::vector<std::string> seen;
};

class JobBoardObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::BackupSet set;
    set.set_id("set1");
    set.set_status(v1::SET_RUNNING);
    ASSERT_TRUE(catalog_.CreateSet(set).ok());
    board_.AddObserver(&recording_);
  }

  void Add(const std::string& id, v1::JobKind kind) {
    v1::Job job;
    job.set_id(id);
    job.set_set_id("set1");
    job.set_kind(kind);
    job.set_target("core/" + id);
    v1::Artifact artifact;
    artifact.set_set_id("set1");
    artifact.set_target("core/" + id);
    artifact.set_path("ns/dx/set1/" + id + ".tar");
    ASSERT_TRUE(board_.Add(job, artifact, nullptr).ok());
  }

  v1::Job Recorded(const std::string& id) {
    auto jobs = catalog_.ListJobs("set1");
    for (const v1::Job& j : *jobs) {
      if (j.id() == id) return j;
    }
    return {};
  }

  HeldCatalog catalog_;
  testing::FakeClock clock_;
  JobBoard board_{&catalog_, &catalog_, &clock_};
  Recording recording_{&catalog_};
};

TEST_F(JobBoardObserverTest, ObserversSeeEachChangeInOrderAfterTheCatalog) {
  Add("backup", v1::JOB_VOLUME_BACKUP);
  board_.MarkRunning("backup", "ns/dx/core-0", /*session=*/4);
  ASSERT_TRUE(board_.Progress(4, "backup", 100, 2).ok());
  board_.Finish("backup", absl::DataLossError("digest mismatch"));
  EXPECT_EQ(recording_.Seen(),
            (std::vector<std::string>{
                "backup added JOB_PENDING recorded JOB_PENDING",
                "backup started JOB_RUNNING recorded JOB_RUNNING",
                "backup progress JOB_RUNNING recorded JOB_RUNNING",
                "backup failing",
                "backup ended JOB_FAILED recorded JOB_FAILED",
            }));
  board_.RemoveObserver(&recording_);
  Add("later", v1::JOB_HOOK);
  EXPECT_EQ(recording_.Seen().size(), 5u) << "a removed observer was told";
}

TEST_F(JobBoardObserverTest, FailuresKeepTheirStatusCodeToTheRecord) {
  Add("hook", v1::JOB_HOOK);
  Add("old-agent", v1::JOB_HOOK);
  Add("stuck", v1::JOB_VOLUME_RESTORE);
  board_.MarkRunning("hook", "ns/dx/core-0", 1);
  board_.MarkRunning("old-agent", "ns/dx/core-0", 1);
  board_.MarkRunning("stuck", "ns/dx/core-0", 1);

  v1::JobResult result;
  result.set_job_id("hook");
  result.set_ok(false);
  result.set_error("hook timed out after 30 s");
  result.set_error_code(
      static_cast<int32_t>(absl::StatusCode::kDeadlineExceeded));
  ASSERT_TRUE(board_.ReportResult(1, result).ok());
  result.set_job_id("old-agent");
  result.set_error_code(0);  // an agent from before error_code
  ASSERT_TRUE(board_.ReportResult(1, result).ok());
  clock_.now += std::chrono::seconds(301);
  EXPECT_EQ(board_.FailStalled(300), std::vector<std::string>{"stuck"});

  std::vector<v1::Job> ended =
      board_.WaitAndRemove({"hook", "old-agent", "stuck"});
  ASSERT_EQ(ended.size(), 3u);
  EXPECT_EQ(ended[0].error_code(), "DEADLINE_EXCEEDED");
  EXPECT_EQ(ended[1].error_code(), "UNKNOWN");
  EXPECT_EQ(ended[2].error_code(), "DEADLINE_EXCEEDED");
  EXPECT_EQ(Recorded("hook").error_code(), "DEADLINE_EXCEEDED");
  EXPECT_EQ(Recorded("hook").error(), "hook timed out after 30 s");
  EXPECT_EQ(Recorded("stuck").error_code(), "DEADLINE_EXCEEDED");
}

TEST_F(JobBoardObserverTest, AHungCatalogWriteHoldsUpNoReadOfTheBoard) {
  Add("slow", v1::JOB_HOOK);
  Add("other", v1::JOB_VOLUME_RESTORE);
  board_.MarkRunning("other", "ns/dx/core-1", 2);
  catalog_.held_job = "slow";
  std::thread ending(
      [&] { board_.Finish("slow", absl::UnavailableError("agent gone")); });
  catalog_.entered.WaitForNotification();  // the recorder is in UpsertJob
  // The board answers meanwhile: what the agent protocol asks.
  EXPECT_FALSE(board_.IsRunning("slow")) << "ended before it is recorded";
  EXPECT_TRUE(board_.IsRunning("other"));
  EXPECT_EQ(*board_.AgentOf("other"), "ns/dx/core-1");
  EXPECT_EQ(board_.RestoreSource("other")->path(), "ns/dx/set1/other.tar");
  catalog_.release.Notify();
  ending.join();
  EXPECT_EQ(Recorded("slow").status(), v1::JOB_FAILED)
      << "Finish returned before its record was written";
}

TEST_F(JobBoardObserverTest, WaitAndRemoveReturnsOnlyOnceTheEndIsRecorded) {
  Add("slow", v1::JOB_HOOK);
  catalog_.held_job = "slow";
  std::thread ending([&] { board_.Finish("slow", absl::OkStatus(), 10, 1); });
  catalog_.entered.WaitForNotification();
  std::vector<v1::Job> ended;
  std::thread waiting([&] { ended = board_.WaitAndRemove({"slow"}); });
  catalog_.release.Notify();
  ending.join();
  waiting.join();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].status(), v1::JOB_SUCCEEDED);
  // Whichever returned first, the record was there: the set's runner
  // reads the catalog right after.
  EXPECT_EQ(Recorded("slow").status(), v1::JOB_SUCCEEDED);
}

TEST_F(JobBoardObserverTest, AnArtifactBeingRecordedTakesNoOtherEnd) {
  Add("backup", v1::JOB_VOLUME_BACKUP);
  board_.MarkRunning("backup", "ns/dx/core-0", 5);
  ASSERT_TRUE(board_.BeginUpload("backup").ok());
  catalog_.hold_artifacts = true;
  v1::Artifact stored;
  stored.set_set_id("set1");
  stored.set_target("core/backup");
  stored.set_path("ns/dx/set1/backup.tar");
  stored.set_bytes(42);
  absl::Status completed;
  std::thread completing(
      [&] { completed = board_.CompleteWithArtifact("backup", stored); });
  catalog_.entered.WaitForNotification();
  // The agent drops meanwhile: too late, the upload is stored.
  board_.FailSessionJobs(5, absl::UnavailableError("agent disconnected"));
  catalog_.release.Notify();
  completing.join();
  ASSERT_TRUE(completed.ok()) << completed;
  std::vector<v1::Job> ended = board_.WaitAndRemove({"backup"});
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].status(), v1::JOB_SUCCEEDED);
  EXPECT_EQ(ended[0].bytes(), 42u);
}

TEST_F(JobBoardObserverTest, AnArtifactTheCatalogRefusesLeavesTheJobRunning) {
  Add("backup", v1::JOB_VOLUME_BACKUP);
  board_.MarkRunning("backup", "ns/dx/core-0", 5);
  catalog_.fail_artifacts = true;
  v1::Artifact stored;
  stored.set_path("ns/dx/set1/backup.tar");
  absl::Status s = board_.CompleteWithArtifact("backup", stored);
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_TRUE(board_.IsRunning("backup")) << "the caller fails it, with why";
  board_.Finish("backup", s);
  std::vector<v1::Job> ended = board_.WaitAndRemove({"backup"});
  EXPECT_EQ(ended[0].error_code(), "RESOURCE_EXHAUSTED");
}

}  // namespace
}  // namespace dxbackup::scheduler
