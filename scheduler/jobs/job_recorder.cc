#include "scheduler/jobs/job_recorder.h"

#include "common/log.h"

namespace dxbackup::scheduler {

void JobRecorder::OnJobChanged(JobChange change, const v1::Job& job) {
  if (change == JobChange::kProgress) return;
  absl::Status s = jobs_->UpsertJob(job);
  if (!s.ok()) {
    DXLOG(ERROR) << "job " << job.id() << " (" << job.target()
                 << ") not recorded in the catalog: " << s.message();
  }
}

}  // namespace dxbackup::scheduler
