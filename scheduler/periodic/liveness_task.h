// LivenessTask closes the control streams of agents that missed their
// heartbeats (AgentRegistry::CloseSilent): silent for longer than
// heartbeat_seconds × offline_after_heartbeats (defaults 10 × 3), looked at
// every kEvery. Runs on the ticker's thread.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_LIVENESS_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_LIVENESS_TASK_H_

#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/periodic/periodic_task.h"

namespace dxbackup::scheduler {

class LivenessTask : public PeriodicTask {
 public:
  static constexpr absl::Duration kEvery = absl::Seconds(5);

  // `config`: heartbeat_seconds and offline_after_heartbeats; `registry`:
  // the control streams closed. Both must outlive the task.
  LivenessTask(const v1::SchedulerConfig& config, AgentRegistry* registry)
      : config_(config), registry_(registry) {}

  const char* name() const override { return "agent liveness"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time) const override { return every_.Next(); }

 private:
  const v1::SchedulerConfig& config_;
  AgentRegistry* registry_;
  Every every_{kEvery};
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_LIVENESS_TASK_H_
