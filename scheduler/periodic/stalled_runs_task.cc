#include "scheduler/periodic/stalled_runs_task.h"

namespace dxbackup::scheduler {
namespace {
constexpr int kDefaultStallSeconds = 600;
}  // namespace

void StalledRunsTask::Run(absl::Time now) {
  if (!every_.Due(now)) return;
  board_->FailStalled(config_.stall_seconds() > 0 ? config_.stall_seconds()
                                                  : kDefaultStallSeconds);
}

}  // namespace dxbackup::scheduler
