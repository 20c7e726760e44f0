// JobObserver is told of every change to the jobs on a JobBoard: the
// catalog recorder (JobRecorder), the cleanup of a failed job's upload
// (UploadSessions) and the job metrics (JobMetrics) are observers, so the
// board itself only keeps jobs' state in memory.
//
//   class Counter : public JobObserver {
//     void OnJobChanged(JobChange change, const v1::Job& job) override {
//       if (change == JobChange::kEnded) ++ended_;
//     }
//   };
//   board.AddObserver(&counter);
#ifndef DXBACKUP_SCHEDULER_JOBS_JOB_OBSERVER_H_
#define DXBACKUP_SCHEDULER_JOBS_JOB_OBSERVER_H_

#include <string>

#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

enum class JobChange {
  kAdded,     // pending, not given to anyone yet
  kStarted,   // running on an agent (or on the scheduler)
  kProgress,  // bytes and files so far
  kEnded,     // succeeded or failed; the last change of a job
};

class JobObserver {
 public:
  virtual ~JobObserver() = default;

  // `job` as it is after `change`. Calls come one at a time, in the order
  // the changes were made (so a job's kEnded follows its kStarted), with no
  // board lock held, on the thread of whichever caller made a change; the
  // caller returns only once its change was delivered. An observer may read
  // the board but must not change jobs (Add, MarkRunning, Progress, Finish,
  // ...).
  virtual void OnJobChanged(JobChange change, const v1::Job& job) = 0;

  // `job_id` is failing: called before its failure is delivered, on the
  // failing caller's thread, with no board lock held (and possibly while
  // another job's change is delivered). The job already takes no more
  // reports. Same rule: read the board, change no job.
  virtual void OnJobFailing(const std::string& job_id) { (void)job_id; }
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_JOBS_JOB_OBSERVER_H_
