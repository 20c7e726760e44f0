#include "scheduler/periodic/prune_task.h"

#include "common/log.h"
#include "scheduler/policy/cron_schedule.h"

namespace dxbackup::scheduler {

void PruneTask::Run(absl::Time now) {
  if (now < next_) return;
  if (next_ != absl::InfinitePast()) {
    auto pruned = pruner_->Prune(false);
    if (!pruned.ok()) DXLOG(ERROR) << "prune: " << pruned.status().message();
    if (file_index_ != nullptr) file_index_->RequestAll();
  }
  const std::string& spec = config_.prune_schedule();
  auto schedule = CronSchedule::Parse(spec.empty() ? "@hourly" : spec, "prune");
  next_ = schedule.ok() ? schedule->Next(now) : absl::InfiniteFuture();
}

}  // namespace dxbackup::scheduler
