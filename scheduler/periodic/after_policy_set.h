// AfterPolicySet is what follows a policy's set when it ends: a complete
// set is copied to the policy's copy_to directory (SetCopier, with the
// copy's own retention), then the set's group is pruned. Called on the
// thread the set ended on (PolicySlots' on_end), so that a long copy holds
// up no periodic task. Thread-safe; `pruner` and `state`'s parts outlive it.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_AFTER_POLICY_SET_H_
#define DXBACKUP_SCHEDULER_PERIODIC_AFTER_POLICY_SET_H_

#include "dxbackup/v1/admin.pb.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/policy/policy_queue.h"
#include "scheduler/scheduler_state.h"
#include "scheduler/sets/set_copier.h"

namespace dxbackup::scheduler {

class AfterPolicySet {
 public:
  AfterPolicySet(SchedulerState state, Pruner* pruner)
      : state_(state), pruner_(pruner), copier_(state) {}

  void Ended(const v1::Policy& policy, const PlanKey& key,
             const v1::BackupSet& set);

 private:
  SchedulerState state_;
  Pruner* pruner_;
  SetCopier copier_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_AFTER_POLICY_SET_H_
