// OrphanAdoptionTask makes sure no deployment's unfinished work outlives
// the replica that ran it: every kEvery it routes (DeploymentRouter) each
// deployment the catalog shows unfinished work for — a set running or
// being removed, a restore holding it, a scale-down to put back. One whose
// owner's lease has lapsed is claimed by the first replica to look, which
// takes it over (LeaseRouter: the sets failed with the reason, the owed
// post-hooks run, ...), so a stopped replica's work is ended within its
// lease and one look, also when the deployment's agents never come back
// (their pods gone) to be routed themselves. A deployment a live replica
// owns is left to it. This holds only where every replica claims a
// deployment (routes it) before it starts anything of it: a set running
// on a replica that never claimed its deployment would be taken for a
// lapsed one's and failed.
//
// With `covered` (the deployments the policies cover, fleet-wide), it
// also routes, from `claim_covered_from` on, each of those no live replica
// owns (as `replicas` lists them: a query per live replica, not a claim
// per deployment): it is claimed, so that a
// deployment whose agents are not connected anywhere still has a replica
// to run (and fail) its slots and to tell of it as stale. The delay lets
// the agents spread their deployments over the replicas first (each
// agent's deployment is claimed by the replica it reaches).
//
// Run() routes inline: takeovers are rare, and one is a few catalog calls
// and a listing of the deployment's prefix in the store.
// Thread-compatible (the ticker's thread); the catalog and router must
// outlive it.
#ifndef DXBACKUP_SCHEDULER_REPLICAS_ORPHAN_ADOPTION_H_
#define DXBACKUP_SCHEDULER_REPLICAS_ORPHAN_ADOPTION_H_

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/catalog/replica_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/periodic/periodic_task.h"
#include "scheduler/replicas/deployment_router.h"

namespace dxbackup::scheduler {

// The deployments (namespace, release) with unfinished work in the
// catalog, as above.
absl::StatusOr<std::set<std::pair<std::string, std::string>>>
DeploymentsWithUnfinishedWork(SetCatalog& sets);

class OrphanAdoptionTask : public PeriodicTask {
 public:
  static constexpr absl::Duration kEvery = absl::Seconds(10);

  using CoveredFn =
      std::function<std::vector<std::pair<std::string, std::string>>()>;

  OrphanAdoptionTask(SetCatalog* sets, DeploymentRouter* router)
      : sets_(sets), router_(router) {}
  OrphanAdoptionTask(SetCatalog* sets, DeploymentRouter* router,
                     ReplicaCatalog* replicas, CoveredFn covered,
                     absl::Time claim_covered_from)
      : sets_(sets),
        router_(router),
        replicas_(replicas),
        covered_(std::move(covered)),
        claim_covered_from_(claim_covered_from) {}

  const char* name() const override { return "orphan adoption"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time now) const override {
    return last_ == absl::InfinitePast() ? now : last_ + kEvery;
  }

 private:
  // The deployments the live replicas own.
  absl::StatusOr<std::set<std::pair<std::string, std::string>>> LiveOwned();

  SetCatalog* const sets_;
  DeploymentRouter* const router_;
  ReplicaCatalog* const replicas_ = nullptr;
  const CoveredFn covered_;  // empty: only unfinished work is routed
  const absl::Time claim_covered_from_ = absl::InfiniteFuture();
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_REPLICAS_ORPHAN_ADOPTION_H_
