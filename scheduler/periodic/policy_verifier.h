// PolicyVerifier runs the policies' scheduled verification (Policy.verify):
// at each slot of a policy's verify schedule, every complete set of that
// policy is verified with SetVerifier, oldest first, deep if asked. The
// slots are SecondarySchedules' ("verify:<name>"): persisted, collapsed
// when missed, never two runs of a policy at once.
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_POLICY_VERIFIER_H_
#define DXBACKUP_SCHEDULER_PERIODIC_POLICY_VERIFIER_H_

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/schedule_slot_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/periodic/secondary_schedules.h"
#include "scheduler/replicas/deployment_scope.h"
#include "scheduler/runs/run_threads.h"
#include "scheduler/sets/set_verifier.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

class PolicyVerifier {
 public:
  // `config`: the policies and their verify schedules; `sets`: the sets
  // verified, and their results; `slots`: the persisted slots; `store`:
  // the artifacts read back; `clock`: the verification time; `keys`: the
  // scheduler's own keys, which a deep verification of an encrypted set
  // needs (without them it checks the stored bytes only, and says so). All
  // must outlive the verifier.
  // `notices` (may be null) is told of each set found corrupt.
  PolicyVerifier(const v1::SchedulerConfig& config, SetCatalog* sets,
                 ScheduleSlotCatalog* slots, ArtifactStore* store,
                 const common::Clock* clock, const crypto::KeyRing* keys,
                 NoticeSink* notices = nullptr);
  ~PolicyVerifier();  // waits for running verifications
  // Each set verified is leased (SetVerifier::LeaseFrom).
  void LeaseFrom(SetLeases* leases) { verifier_.LeaseFrom(leases); }
  // Verifies only the sets of the deployments in `scope` (a replica's own:
  // its leases keep its pruning off them), each replica at every slot.
  // Before Load.
  void LimitTo(DeploymentScope scope) {
    scope_ = std::move(scope);
    slots_.ShareAmongReplicas();
  }

  // Reads the persisted slots; a policy with none starts counting at `now`.
  absl::Status Load(absl::Time now);

  // Takes every policy's due slot (persisting it) and verifies its sets on
  // a thread of its own. Returns at once.
  void StartDue(absl::Time now);
  // The same, on the calling thread; returns how many sets it verified.
  int RunDue(absl::Time now);

  // The earliest next slot of any policy after `now` (InfiniteFuture: none).
  absl::Time NextDue(absl::Time now) const;
  // Fills each policy's verify schedule, next and last slot.
  void Describe(v1::ListPoliciesResponse* response, absl::Time now) const;

  // Waits for the verifications StartDue started.
  void Join() { threads_.JoinAll(); }

 private:
  int VerifyPolicy(const v1::Policy& policy);

  const v1::SchedulerConfig& config_;
  SetCatalog* sets_;
  SetVerifier verifier_;
  SecondarySchedules slots_;  // "verify:<policy>"
  DeploymentScope scope_;     // empty: every deployment
  RunThreads threads_;
};

// The catalog's schedule-slot key of a policy's verification.
std::string VerifySlotKey(const std::string& policy);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_POLICY_VERIFIER_H_
