// LivenessTask closes the control streams of agents that missed their
// heartbeats (AgentRegistry::CloseSilent): silent for longer than
// heartbeat_seconds × offline_after_heartbeats (defaults 10 × 3), looked at
// every kEvery. Runs on the ticker's thread; `state`'s parts outlive it.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_LIVENESS_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_LIVENESS_TASK_H_

#include "scheduler/periodic/periodic_task.h"
#include "scheduler/scheduler_state.h"

namespace dxbackup::scheduler {

class LivenessTask : public PeriodicTask {
 public:
  static constexpr absl::Duration kEvery = absl::Seconds(5);

  explicit LivenessTask(SchedulerState state) : state_(state) {}

  const char* name() const override { return "agent liveness"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time) const override { return every_.Next(); }

 private:
  SchedulerState state_;
  Every every_{kEvery};
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_LIVENESS_TASK_H_
