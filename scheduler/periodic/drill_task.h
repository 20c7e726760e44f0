// DrillTask starts the policies' scheduled restore drills at their slots
// (PolicyDriller::StartDue, which drills on threads of its own, so a long
// drill holds up no other task). Runs on the ticker's thread; `driller`
// outlives it.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_DRILL_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_DRILL_TASK_H_

#include "scheduler/periodic/periodic_task.h"
#include "scheduler/periodic/policy_driller.h"

namespace dxbackup::scheduler {

class DrillTask : public PeriodicTask {
 public:
  explicit DrillTask(PolicyDriller* driller) : driller_(driller) {}

  const char* name() const override { return "restore drills"; }
  void Run(absl::Time now) override { driller_->StartDue(now); }
  absl::Time NextDue(absl::Time now) const override {
    return driller_->NextDue(now);
  }

 private:
  PolicyDriller* driller_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_DRILL_TASK_H_
