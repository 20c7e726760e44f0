// JobBoard holds the jobs in flight: their state, who runs them, and the
// artifact each backup job will produce. Every transition is written to
// the catalog and published to the job's RunEvents; the first terminal
// transition of a job wins and later ones are ignored, so a dead agent, a
// cut upload and an error report can race harmlessly.
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_JOBS_JOB_BOARD_H_
#define DXBACKUP_SCHEDULER_JOBS_JOB_BOARD_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "dxbackup/v1/agent.pb.h"
#include "scheduler/catalog/job_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/jobs/run_events.h"

namespace dxbackup::scheduler {

// "core/profile: agent gone", one per job that did not succeed.
std::vector<std::string> FailedJobReasons(const std::vector<v1::Job>& jobs);

class JobBoard {
 public:
  // `jobs` records the jobs, `sets` their artifacts; both and `clock`
  // must outlive the board.
  JobBoard(JobCatalog* jobs, SetCatalog* sets, const common::Clock* clock);

  // Adds a pending job. For a volume backup, `artifact` describes what its
  // upload will be stored as; for a restore, `artifact` is what it reads,
  // after `bases` (an incremental chain's earlier artifacts, oldest first).
  absl::Status Add(const v1::Job& job, const v1::Artifact& artifact,
                   std::shared_ptr<RunEvents> events,
                   std::vector<v1::Artifact> bases = {});
  // Marks a job running on `agent_id` ("scheduler" for the scheduler's
  // own), given to that agent's connection `session` (see
  // AgentRegistry::Registration; 0 for the scheduler's own jobs). Only that
  // session may report on the job.
  void MarkRunning(const std::string& job_id, const std::string& agent_id,
                   uint64_t session = 0);
  // An agent's progress on a job, from its connection `session`.
  // PermissionDenied when the job was given to another session (or is the
  // scheduler's own); NotFound when the job is unknown or has ended.
  absl::Status Progress(uint64_t session, const std::string& job_id,
                        uint64_t bytes, uint64_t files);
  // Ends a job (first call wins). `log` is a tool's stderr, if any. A
  // failure runs the fail hook first: the job counts as ended from the
  // call on, but its end is published only after the hook returned.
  void Finish(const std::string& job_id, bool ok, const std::string& error,
              uint64_t bytes = 0, uint64_t files = 0,
              const std::string& log = "");
  // An agent's report on a job it ran, from its connection `session`: a
  // failure ends any job; success ends a restore or hook job (a backup job
  // ends when its upload is stored). Refused as Progress is.
  absl::Status ReportResult(uint64_t session, const v1::JobResult& result);
  // `hook(job_id)` cleans up after a failed job (an upload's partial file);
  // it runs with no lock held and must not end jobs. Set before jobs run.
  void SetFailHook(std::function<void(const std::string& job_id)> hook);
  // Fails every unfinished job given to agent connection `session`.
  void FailSessionJobs(uint64_t session, const std::string& reason);
  // Fails every unfinished job (the scheduler is stopping).
  void FailAll(const std::string& reason);
  // Fails each running volume job (backup or restore) whose agent has
  // reported no progress for `stall_seconds`: the agent is connected but
  // its capture or extraction is stuck. Returns the jobs it failed.
  std::vector<std::string> FailStalled(int64_t stall_seconds);

  // The artifact a running volume-backup job will produce, claiming its one
  // upload; an error when the job is unknown, not running or already
  // uploading.
  absl::StatusOr<v1::Artifact> BeginUpload(const std::string& job_id);
  // Records the stored artifact (an upload's or a dump's) in the catalog
  // and ends the job successfully; FailedPrecondition when the job ended
  // meanwhile (the caller then removes the file).
  absl::Status CompleteWithArtifact(const std::string& job_id,
                                    const v1::Artifact& stored);
  // The agent a job was given to ("" for the scheduler's own), or NotFound.
  absl::StatusOr<std::string> AgentOf(const std::string& job_id);
  // True while the job has not ended.
  bool IsRunning(const std::string& job_id);
  // Part `part` of what a running restore job reads: its bases in order,
  // then (part == number of bases) its own artifact.
  absl::StatusOr<v1::Artifact> RestoreSource(const std::string& job_id,
                                             uint32_t part = 0);
  // The artifact a running incremental backup job will produce (its
  // base_set_id and target name the base index); NotFound otherwise.
  absl::StatusOr<v1::Artifact> IncrementalBackup(const std::string& job_id);

  // Blocks until every listed job has ended; returns their final records
  // and forgets them.
  std::vector<v1::Job> WaitAndRemove(const std::vector<std::string>& job_ids);

 private:
  struct Entry {
    v1::Job job;
    v1::Artifact artifact;
    std::vector<v1::Artifact> bases;
    std::shared_ptr<RunEvents> events;
    uint64_t session = 0;  // the agent connection the job was given to
    bool uploading = false;
    bool ended = false;
    bool ending = false;             // failed, fail hook running
    int64_t last_activity_unix = 0;  // started, or progress reported
  };
  static bool Over(const Entry& e) { return e.ended || e.ending; }
  // The running job `job_id` if `session` may report on it; mu_ held.
  absl::StatusOr<Entry*> ReportableLocked(uint64_t session,
                                          const std::string& job_id);
  // Ends the job and publishes it; mu_ held.
  void EndLocked(Entry& entry, bool ok, const std::string& error,
                 uint64_t bytes, uint64_t files, const std::string& log);
  // Persists and publishes the job; called with mu_ held.
  void Record(Entry& entry, bool persist);

  JobCatalog* job_records_;
  SetCatalog* set_records_;
  const common::Clock* clock_;
  std::mutex mu_;
  std::condition_variable ended_cv_;
  std::map<std::string, Entry> jobs_;
  std::function<void(const std::string&)> fail_hook_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_JOBS_JOB_BOARD_H_
