// StalledRunsTask fails running volume jobs whose agent reported no
// progress for stall_seconds (default 600; JobBoard::FailStalled), looked
// at every kEvery. Runs on the ticker's thread.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_STALLED_RUNS_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_STALLED_RUNS_TASK_H_

#include "dxbackup/v1/config.pb.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/periodic/periodic_task.h"

namespace dxbackup::scheduler {

class StalledRunsTask : public PeriodicTask {
 public:
  static constexpr absl::Duration kEvery = absl::Seconds(5);

  // `config`: stall_seconds; `board`: the jobs failed. Both must outlive
  // the task.
  StalledRunsTask(const v1::SchedulerConfig& config, JobBoard* board)
      : config_(config), board_(board) {}

  const char* name() const override { return "stalled runs"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time) const override { return every_.Next(); }

 private:
  const v1::SchedulerConfig& config_;
  JobBoard* board_;
  Every every_{kEvery};
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_STALLED_RUNS_TASK_H_
