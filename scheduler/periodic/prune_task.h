// PruneTask applies every policy's retention (Pruner::Prune) at each slot
// of the config's prune_schedule (default @hourly). The first slot is the
// first after the ticker starts: starting the scheduler does not prune.
// Runs on the ticker's thread; `pruner` and `state`'s parts outlive it.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_PRUNE_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_PRUNE_TASK_H_

#include "scheduler/periodic/periodic_task.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/scheduler_state.h"

namespace dxbackup::scheduler {

class PruneTask : public PeriodicTask {
 public:
  PruneTask(SchedulerState state, Pruner* pruner)
      : state_(state), pruner_(pruner) {}

  const char* name() const override { return "prune"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time) const override { return next_; }

 private:
  SchedulerState state_;
  Pruner* pruner_;
  absl::Time next_ = absl::InfinitePast();  // InfinitePast: not started
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_PRUNE_TASK_H_
