// TakeOverDeployment ends, for one deployment a replica has just claimed
// (LeaseRouter), what its previous owner left unfinished: what a
// scheduler restarting on its catalog does for every deployment at start
// (server/scheduler_server.cc), for this one alone, while other replicas
// go on with theirs. In order:
//   1. the sets whose pre-hooks began and whose post-hooks did not all
//      run are found (SetsOwingPostHooks), before they are failed;
//   2. the sets left running fail with kStoppedWhileRunning, naming the
//      replica, and their unfinished jobs with them;
//   3. a restore left running in place leaves its hold waiting;
//   4. what a set's scale_to_one left scaled down is scaled back;
//   5. removals left half-done are finished (`finish_removals`);
//   6. what interrupted uploads left in the store under the deployment's
//      prefix, and objects there no catalog row names, go (Reconcile),
//      and the policies' copy buckets' unfinished uploads under it;
//   7. the post-hooks owed are handed to `owe`, to run once the agents
//      are back (OwedPostHooksTask::Owe).
// Each step is one that a later takeover, or a restart, can run again: an
// error leaves the rest for the next try.
//
// Thread-compatible: one call per deployment at a time (LeaseRouter
// serialises them); the parts are used as their own contracts allow.
#ifndef DXBACKUP_SCHEDULER_REPLICAS_DEPLOYMENT_TAKEOVER_H_
#define DXBACKUP_SCHEDULER_REPLICAS_DEPLOYMENT_TAKEOVER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/job_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/periodic/owed_post_hooks_task.h"
#include "scheduler/sets/set_copier.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

struct TakeoverParts {
  SetCatalog* sets;
  JobCatalog* jobs;
  ArtifactStore* store;
  // The policies' copy_to.s3 buckets; nullptr: none.
  const CopyStores* copy_stores = nullptr;
  const v1::KubernetesApi* kubernetes_api;  // for scale_to_one's scale-back
  const common::Clock* clock;
  // Takes the post-hooks owed (step 7).
  std::function<void(std::vector<OwedPostHooks>)> owe;
  // Finishes the deployment's interrupted removals (Pruner::
  // FinishInterrupted for it).
  std::function<absl::Status(const std::string& namespace_,
                             const std::string& release)>
      finish_removals;
};

// `previous`: the replica the deployment was claimed from ("" when it had
// no live owner on record), named in the failed sets' reasons.
absl::Status TakeOverDeployment(const TakeoverParts& parts,
                                const std::string& namespace_,
                                const std::string& release,
                                const std::string& previous);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_REPLICAS_DEPLOYMENT_TAKEOVER_H_
