// Pruner applies each policy's retention to the sets that policy took, one
// group (namespace, release, policy) at a time and never across groups.
// Removal is crash-safe: a set is first marked expiring, then its files are
// deleted, then its rows; FinishInterrupted() completes what a crash cut
// short. Manual sets (no policy) are never pruned, nor is a set a restore
// holds its deployment for (deployment_holds.h), nor its chain.
//
// Thread-safe; prunes run one at a time.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_PRUNER_H_
#define DXBACKUP_SCHEDULER_PERIODIC_PRUNER_H_

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/metrics/metrics.h"
#include "scheduler/replicas/deployment_scope.h"
#include "scheduler/sets/set_leases.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

class Pruner {
 public:
  // `config`: the policies and their retention; `sets`: the sets decided
  // on and removed; `store`: their files, deleted; `clock`: "now" for
  // retention; `metrics` (nullptr: nothing counted): removed sets. All must
  // outlive the pruner.
  // `set_removal` (may be null): held while sets are decided on and
  // removed, shared with BackupSetRunner (its Parts::set_removal).
  // `leases` (may be null): the sets being read, kept whatever the rules
  // say (and their chains) and refused by Delete; a set is removed only
  // after SetLeases::BeginRemoval allowed it.
  Pruner(const v1::SchedulerConfig& config, SetCatalog* sets,
         ArtifactStore* store, const common::Clock* clock,
         SchedulerMetrics* metrics = nullptr, std::mutex* set_removal = nullptr,
         SetLeases* leases = nullptr);

  // Limits Prune (not dry runs) to the deployments in `scope`: a replica
  // prunes only those it owns (deployment_scope.h). Before any other
  // call.
  void LimitTo(DeploymentScope scope) { scope_ = std::move(scope); }

  // Every group of every configured policy (or of `policy` only), within
  // the scope (LimitTo). With `dry_run`, decides and reports on every
  // group but removes nothing.
  absl::StatusOr<v1::PruneResponse> Prune(bool dry_run,
                                          const std::string& policy = "");
  // One group, after a set of it ended.
  absl::StatusOr<v1::PruneResponse> PruneGroup(const v1::Policy& policy,
                                               const std::string& namespace_,
                                               const std::string& release,
                                               bool dry_run);
  // What retention would decide for one group, now, removing nothing and
  // waiting for no prune or set start (it takes neither lock): for
  // readers such as the dashboard, which must not stall behind a prune
  // deleting objects. A set starting meanwhile may be missing from it.
  absl::StatusOr<v1::PruneResponse> Explain(const v1::Policy& policy,
                                            const std::string& namespace_,
                                            const std::string& release);
  // Finishes the removals an earlier scheduler began: of every
  // deployment, or only of `namespace_`/`release` when given (a replica
  // that has just taken that deployment over).
  absl::Status FinishInterrupted(const std::string& namespace_ = "",
                                 const std::string& release = "");
  // `dxbackup delete SET`: removes one set as retention would (crash-safe),
  // whatever its policy. FailedPrecondition, saying why and what to do,
  // for a running set, one a restore holds its deployment for, the base
  // of another set (naming it) and one with an object under Object Lock
  // (until when); NotFound for no such set.
  absl::StatusOr<v1::DeleteSetResponse> Delete(const std::string& set_id);

 private:
  // The sets retention must keep whatever its rules say, with why: those
  // holds keep (HeldSets) and those being read (leases_).
  absl::StatusOr<std::map<std::string, std::string>> PinnedSets();
  // leases_->BeginRemoval, when there are leases; true otherwise. A true
  // is followed by leases_->FinishRemoval once the removal ended.
  bool BeginRemoval(const std::string& set_id, std::string* reader);
  // Decides (and unless `dry_run` removes) among `sets`, one deployment's
  // sets of `policy`, newest first. `locked`: the sets under Object Lock
  // (SetCatalog::LockedSets), read once per prune rather than once per set;
  // `held`: the sets holds keep (HeldSets), likewise.
  // PruneGroup's and Explain's work, under whatever locks they hold.
  absl::StatusOr<v1::PruneResponse> DecideGroup(const v1::Policy& policy,
                                                const std::string& namespace_,
                                                const std::string& release,
                                                bool dry_run);
  absl::Status Decide(const v1::Policy& policy, std::vector<v1::BackupSet> sets,
                      bool dry_run,
                      const std::map<std::string, int64_t>& locked,
                      const std::map<std::string, std::string>& held,
                      v1::PruneResponse* response);
  // `by_hand`: `delete` (logged and counted as such), not retention.
  absl::Status Remove(v1::BackupSet set, bool by_hand = false);

  const v1::SchedulerConfig& config_;
  SetCatalog* sets_;
  ArtifactStore* store_;
  const common::Clock* clock_;
  SchedulerMetrics* metrics_;
  std::mutex* set_removal_;
  SetLeases* leases_;
  DeploymentScope scope_;  // empty: every deployment
  std::mutex mu_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_PRUNER_H_
