#include "scheduler/periodic/liveness_task.h"

namespace dxbackup::scheduler {
namespace {
constexpr int kDefaultHeartbeatSeconds = 10;
constexpr int kDefaultOfflineAfter = 3;
}  // namespace

void LivenessTask::Run(absl::Time now) {
  if (!every_.Due(now)) return;
  const v1::SchedulerConfig& config = config_;
  const int beat = config.heartbeat_seconds() > 0 ? config.heartbeat_seconds()
                                                  : kDefaultHeartbeatSeconds;
  const int missed = config.offline_after_heartbeats() > 0
                         ? config.offline_after_heartbeats()
                         : kDefaultOfflineAfter;
  registry_->CloseSilent(static_cast<int64_t>(beat) * missed);
}

}  // namespace dxbackup::scheduler
