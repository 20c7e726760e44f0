// JobRecorder writes jobs to the catalog as they are added, start and end
// (progress is not written: it is for watchers, and an interrupted job is
// failed at the next start anyway). A JobBoard records through one it owns,
// ahead of every other observer. A write that fails is logged: the job goes
// on, and its record catches up at its next change.
#ifndef DXBACKUP_SCHEDULER_JOBS_JOB_RECORDER_H_
#define DXBACKUP_SCHEDULER_JOBS_JOB_RECORDER_H_

#include "scheduler/catalog/job_catalog.h"
#include "scheduler/jobs/job_observer.h"

namespace dxbackup::scheduler {

class JobRecorder : public JobObserver {
 public:
  // `jobs` must outlive the recorder.
  explicit JobRecorder(JobCatalog* jobs) : jobs_(jobs) {}

  void OnJobChanged(JobChange change, const v1::Job& job) override;

 private:
  JobCatalog* jobs_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_JOBS_JOB_RECORDER_H_
