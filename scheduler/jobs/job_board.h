// JobBoard holds the jobs in flight, in memory: their state, who runs
// them, and the artifact each backup job will produce. Each change is
// delivered to the board's observers (first its JobRecorder, which writes
// the catalog, then those added: upload cleanup, metrics) and to the job's
// RunEvents, in order and outside the board's lock (see JobObserver). The
// first terminal transition of a job wins and later ones are ignored, so a
// dead agent, a cut upload and an error report can race harmlessly. A
// failure keeps its status code from where it arose to the job's record
// (v1::Job.error_code).
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_JOBS_JOB_BOARD_H_
#define DXBACKUP_SCHEDULER_JOBS_JOB_BOARD_H_

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "common/clock.h"
#include "dxbackup/v1/agent.pb.h"
#include "scheduler/catalog/job_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/jobs/job_observer.h"
#include "scheduler/jobs/job_recorder.h"
#include "scheduler/jobs/run_events.h"

namespace dxbackup::scheduler {

// "core/profile: agent gone", one per job that did not succeed; with
// `but_cancelled`, none for a job that failed CANCELLED (the run's
// cancellation says it once).
std::vector<std::string> FailedJobReasons(const std::vector<v1::Job>& jobs,
                                          bool but_cancelled = false);

// The most of an agent's error and log a job keeps.
inline constexpr size_t kMaxReportedErrorBytes = 16 << 10;
inline constexpr size_t kMaxReportedLogBytes = 64 << 10;

class JobBoard {
 public:
  // `jobs` records the jobs (through the board's JobRecorder), `sets`
  // their artifacts; both and `clock` must outlive the board.
  JobBoard(JobCatalog* jobs, SetCatalog* sets, const common::Clock* clock);

  // Delivers every later change to `observer` too, after the recorder and
  // the observers added before it. `observer` must stay until removed (or
  // outlive the board).
  void AddObserver(JobObserver* observer);
  // Stops delivering to `observer`; returns once no delivery calls it. Not
  // from an observer's own call.
  void RemoveObserver(JobObserver* observer);

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
  // Ends a job (first call wins): `outcome` OK for success, otherwise the
  // failure, whose code and message the job keeps. `log` is a tool's
  // stderr, if any. A failure is told to observers (OnJobFailing) first:
  // the job counts as ended from the call on, but its end is delivered
  // only after they returned.
  void Finish(const std::string& job_id, const absl::Status& outcome,
              uint64_t bytes = 0, uint64_t files = 0,
              const std::string& log = "");
  // An agent's report on a job it ran, from its connection `session`: a
  // failure ends any job; success ends a restore or hook job (a backup job
  // ends when its upload is stored). Refused as Progress is. The report's
  // error and log are kept to their last kMaxReportedErrorBytes and
  // kMaxReportedLogBytes.
  absl::Status ReportResult(uint64_t session, const v1::JobResult& result);
  // Fails every unfinished job given to agent connection `session` with
  // `why`.
  void FailSessionJobs(uint64_t session, const absl::Status& why);
  // Fails every unfinished job with `why` (the scheduler is stopping).
  void FailAll(const absl::Status& why);
  // Fails each running volume job (backup or restore) whose agent has
  // reported no progress for `stall_seconds`: the agent is connected but
  // its capture or extraction is stuck. Returns the jobs it failed.
  std::vector<std::string> FailStalled(int64_t stall_seconds);

  // The artifact a running job that an agent uploads (a volume backup, or
  // a database member an agent's command captures) will produce, claiming
  // its one upload; an error when the job is unknown, not running or already
  // uploading.
  absl::StatusOr<v1::Artifact> BeginUpload(const std::string& job_id);
  // Records the stored artifact (an upload's or a dump's) in the catalog
  // and ends the job successfully; FailedPrecondition when the job ended
  // meanwhile (the caller then removes the file). While the catalog is
  // written the job takes no other end; if the write fails, the job is
  // running again and the caller fails it.
  // `log` (kept to its last kMaxReportedLogBytes) is the job's.
  absl::Status CompleteWithArtifact(const std::string& job_id,
                                    const v1::Artifact& stored,
                                    const std::string& log = "");
  // The agent a job was given to ("" for the scheduler's own), or NotFound.
  absl::StatusOr<std::string> AgentOf(const std::string& job_id);
  // True while the job has not ended.
  bool IsRunning(const std::string& job_id);
  // Fires when the job fails (after OnJobFailing; its reason the
  // failure's message), whatever failed it but its own agent's report
  // (ReportResult: the agent stopped already): the work still running for the
  // job hangs what stops it there (DispatchToAgent: a CancelJob to the
  // agent; QuiesceWindow: the scheduler's own job's commands, through a
  // CancellationScope). nullptr for an unknown job.
  std::shared_ptr<common::Cancellation> CancellationOf(
      const std::string& job_id);
  // Part `part` of what a running restore job an agent downloads for (a
  // volume, or a database an agent's command restores) reads: its bases in
  // order, then (part == number of bases) its own artifact.
  absl::StatusOr<v1::Artifact> RestoreSource(const std::string& job_id,
                                             uint32_t part = 0);
  // The artifact a running incremental backup job will produce (its
  // base_set_id and target name the base index); NotFound otherwise.
  absl::StatusOr<v1::Artifact> IncrementalBackup(const std::string& job_id);

  // Blocks until every listed job has ended and its end was delivered (is
  // in the catalog); returns their final records and forgets them.
  std::vector<v1::Job> WaitAndRemove(const std::vector<std::string>& job_ids);

 private:
  struct Entry {
    v1::Job job;
    v1::Artifact artifact;
    std::vector<v1::Artifact> bases;
    std::shared_ptr<RunEvents> events;
    std::shared_ptr<common::Cancellation> cancel;  // see CancellationOf
    uint64_t session = 0;  // the agent connection the job was given to
    // Planned for an agent (an agent id when added): only such a job takes
    // an upload or serves a download, never the scheduler's own.
    bool for_agent = false;
    bool uploading = false;
    bool ended = false;
    bool ending = false;      // failed, observers told (OnJobFailing)
    bool completing = false;  // its artifact being written to the catalog
    uint64_t end_change = 0;  // the change that ended it
    int64_t last_activity_unix = 0;  // started, or progress reported
  };
  // A change waiting for delivery.
  struct Change {
    uint64_t number;
    JobChange change;
    v1::Job job;
    std::shared_ptr<RunEvents> events;
  };
  static bool Over(const Entry& e) {
    return e.ended || e.ending || e.completing;
  }
  // Finish; with `stop_work`, the job's Cancellation fires on a failure.
  void End(const std::string& job_id, const absl::Status& outcome,
           uint64_t bytes, uint64_t files, const std::string& log,
           bool stop_work);
  // The running job `job_id` if `session` may report on it; mu_ held.
  absl::StatusOr<Entry*> ReportableLocked(uint64_t session,
                                          const std::string& job_id);
  // Ends the job; returns the change to deliver. mu_ held.
  uint64_t EndLocked(Entry& entry, const absl::Status& outcome, uint64_t bytes,
                     uint64_t files, const std::string& log);
  // Queues `change` of `entry` for delivery; returns its number. mu_ held.
  uint64_t QueueLocked(JobChange change, const Entry& entry);
  // Returns once change `number` was delivered, by this thread or by the
  // one delivering now. mu_ not held.
  void DeliverThrough(uint64_t number);

  SetCatalog* set_records_;
  const common::Clock* clock_;
  JobRecorder recorder_;
  std::mutex mu_;
  // Any change delivered or any job ended.
  std::condition_variable changed_cv_;
  std::map<std::string, Entry> jobs_;
  std::vector<JobObserver*> observers_;  // the recorder first
  std::deque<Change> undelivered_;
  uint64_t next_change_ = 1;
  uint64_t delivered_ = 0;   // every change up to this one was delivered
  bool delivering_ = false;  // a thread is delivering (outside mu_)
  std::thread::id deliverer_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_JOBS_JOB_BOARD_H_
