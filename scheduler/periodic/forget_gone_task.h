// ForgetGoneTask forgets agents that are not connected and were not seen
// for agent_forget_after (default a day): pods gone for good, as after a
// scale-down (AgentRegistry::ForgetGone). Looked at every kEvery, so that
// listing agents is a plain read. Runs on the ticker's thread; `state`'s
// parts outlive it.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_FORGET_GONE_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_FORGET_GONE_TASK_H_

#include "scheduler/periodic/periodic_task.h"
#include "scheduler/scheduler_state.h"

namespace dxbackup::scheduler {

class ForgetGoneTask : public PeriodicTask {
 public:
  static constexpr absl::Duration kEvery = absl::Minutes(1);

  explicit ForgetGoneTask(SchedulerState state) : state_(state) {}

  const char* name() const override { return "forget gone agents"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time) const override { return every_.Next(); }

 private:
  SchedulerState state_;
  Every every_{kEvery};
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_FORGET_GONE_TASK_H_
