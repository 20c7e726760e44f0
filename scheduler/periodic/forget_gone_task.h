// ForgetGoneTask forgets agents that are not connected and were not seen
// for agent_forget_after (default a day): pods gone for good, as after a
// scale-down (AgentRegistry::ForgetGone). Looked at every kEvery, so that
// listing agents is a plain read. Runs on the ticker's thread.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_FORGET_GONE_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_FORGET_GONE_TASK_H_

#include <utility>

#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/periodic/periodic_task.h"
#include "scheduler/replicas/deployment_scope.h"

namespace dxbackup::scheduler {

class ForgetGoneTask : public PeriodicTask {
 public:
  static constexpr absl::Duration kEvery = absl::Minutes(1);

  // `config`: agent_forget_after; `registry`: the agents forgotten, of
  // the deployments in `scope`. All must outlive the task.
  ForgetGoneTask(const v1::SchedulerConfig& config, AgentRegistry* registry,
                 DeploymentScope scope = {})
      : config_(config), registry_(registry), scope_(std::move(scope)) {}

  const char* name() const override { return "forget gone agents"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time) const override { return every_.Next(); }

 private:
  const v1::SchedulerConfig& config_;
  AgentRegistry* registry_;
  const DeploymentScope scope_;
  Every every_{kEvery};
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_FORGET_GONE_TASK_H_
