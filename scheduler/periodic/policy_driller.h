// PolicyDriller runs the policies' scheduled restore drills (Policy.drill):
// at each slot of a policy's drill schedule, for each deployment the
// policy covers now, the newest complete set of that policy not found
// corrupt is drilled (SetDriller), one deployment after another, on a
// thread of its own. The slots are SecondarySchedules' ("drill:<name>").
// It also measures each covered deployment against its policy's
// rpo_seconds and rto_seconds for `policies` (Describe).
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_POLICY_DRILLER_H_
#define DXBACKUP_SCHEDULER_PERIODIC_POLICY_DRILLER_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/schedule_slot_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/drills/set_driller.h"
#include "scheduler/periodic/secondary_schedules.h"
#include "scheduler/policy/policy_queue.h"
#include "scheduler/runs/run_threads.h"

namespace dxbackup::scheduler {

class PolicyDriller {
 public:
  using CoveredFn = std::function<std::vector<PlanKey>()>;
  // `config`: the policies' drill schedules and targets; `sets`: the sets
  // drilled; `slots`: the persisted slots; `driller`: runs each drill;
  // `covered`: each policy's deployments now (PolicySlots::Covered). All
  // must outlive the driller.
  PolicyDriller(const v1::SchedulerConfig& config, SetCatalog* sets,
                ScheduleSlotCatalog* slots, SetDriller* driller,
                CoveredFn covered);
  ~PolicyDriller();  // waits for running drills

  // Among active replicas: each drills its own deployments (`covered`
  // gives only those) at every slot. Before Load.
  void ShareAmongReplicas() { slots_.ShareAmongReplicas(); }
  absl::Status Load(absl::Time now) { return slots_.Load(now); }
  // Takes every policy's due slot and drills on a thread of its own.
  void StartDue(absl::Time now);
  // The same, on the calling thread; returns how many sets it drilled.
  int RunDue(absl::Time now);
  absl::Time NextDue(absl::Time now) const { return slots_.NextDue(now); }
  // Fills each policy's drill schedule and targets, and each of its
  // deployments' newest complete set and drill, met or not.
  void Describe(v1::ListPoliciesResponse* response, absl::Time now) const;
  void Join() { threads_.JoinAll(); }

 private:
  int DrillPolicy(const v1::Policy& policy);

  const v1::SchedulerConfig& config_;
  SetCatalog* sets_;
  SetDriller* driller_;
  CoveredFn covered_;
  SecondarySchedules slots_;  // "drill:<policy>"
  RunThreads threads_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_POLICY_DRILLER_H_
