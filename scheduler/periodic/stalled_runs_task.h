// StalledRunsTask fails running volume jobs whose agent reported no
// progress for stall_seconds (default 600; JobBoard::FailStalled), looked
// at every kEvery. Runs on the ticker's thread; `state`'s parts outlive it.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_STALLED_RUNS_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_STALLED_RUNS_TASK_H_

#include "scheduler/periodic/periodic_task.h"
#include "scheduler/scheduler_state.h"

namespace dxbackup::scheduler {

class StalledRunsTask : public PeriodicTask {
 public:
  static constexpr absl::Duration kEvery = absl::Seconds(5);

  explicit StalledRunsTask(SchedulerState state) : state_(state) {}

  const char* name() const override { return "stalled runs"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time) const override { return every_.Next(); }

 private:
  SchedulerState state_;
  Every every_{kEvery};
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_STALLED_RUNS_TASK_H_
