#include "scheduler/periodic/forget_gone_task.h"

#include "scheduler/config/scheduler_config.h"

namespace dxbackup::scheduler {

void ForgetGoneTask::Run(absl::Time now) {
  if (!every_.Due(now)) return;
  registry_->ForgetGone(AgentForgetAfterSeconds(config_), scope_);
}

}  // namespace dxbackup::scheduler
