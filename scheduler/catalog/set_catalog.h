// SetCatalog: backup sets and their artifacts, and the holds restores
// leave on deployments. An artifact row exists only for an object that is
// complete in the store (see ArtifactStore): rows are written after the
// object is durable. Implementations are thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_SET_CATALOG_H_
#define DXBACKUP_SCHEDULER_CATALOG_SET_CATALOG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

// How many sets may run at once: in all (max_sets) and in one namespace
// (max_sets_per_namespace), counted in the catalog, so across every
// scheduler replica that shares it; 0 is no limit.
struct SetLimits {
  int64_t max_sets = 0;
  int64_t max_sets_per_namespace = 0;
};

// OK when a set of `namespace_` may start beside `running` sets, of which
// `in_namespace` are of its namespace; else ResourceExhausted, naming the
// limit reached.
absl::Status CheckSetLimits(const SetLimits& limits, int64_t running,
                            int64_t in_namespace,
                            const std::string& namespace_);

class SetCatalog {
 public:
  virtual ~SetCatalog() = default;

  // Fails if a set of this id exists.
  virtual absl::Status CreateSet(const v1::BackupSet& set) = 0;
  // CreateSet for a running set, only while fewer than the limits' sets
  // run (SET_RUNNING), counted and created in one step: of schedulers
  // sharing the catalog that start sets at once, no more than the limits
  // allow succeed. ResourceExhausted (CheckSetLimits) otherwise.
  virtual absl::Status CreateSetWithin(const v1::BackupSet& set,
                                       const SetLimits& limits) = 0;
  // Replaces every field of the set of this id.
  virtual absl::Status UpdateSet(const v1::BackupSet& set) = 0;
  // Replaces only the set's drill (v1::BackupSet.drill), so that a drill
  // ending never writes back what it read of the rest (a verification or
  // a status that changed meanwhile). NotFound when there is no such set.
  virtual absl::Status RecordDrill(const std::string& set_id,
                                   const v1::Drill& drill) = 0;
  // NotFound when there is no such set.
  virtual absl::StatusOr<v1::BackupSet> GetSet(const std::string& id) = 0;
  // Newest first (sets started in the same second: the later created
  // first); empty filter fields match everything; `until_unix` excludes;
  // `limit` and `offset` page the list.
  virtual absl::StatusOr<std::vector<v1::BackupSet>> ListSets(
      const v1::ListSetsRequest& filter) = 0;
  // How many sets ListSets(filter) lists, ignoring its limit and offset.
  virtual absl::StatusOr<int64_t> CountSets(
      const v1::ListSetsRequest& filter) = 0;
  // One per deployment with sets, or only namespace_/release's (both
  // given; both "": every deployment's): what a fleet overview shows, in a
  // few indexed queries rather than a list of every set. Of drills ended
  // in the same second, any one may be the newest.
  struct DeploymentSummary {
    std::string namespace_, release;
    int64_t sets = 0;
    int64_t newest_started_unix = 0;
    // The newest complete set not found corrupt (by when it ended); no id:
    // none.
    std::string complete_id;
    int64_t complete_finished_unix = 0;
    uint64_t complete_bytes = 0;
    // The newest failed set (by when it started); no id: none.
    std::string failed_id;
    int64_t failed_started_unix = 0;
    std::string failed_reason;
    // The newest drill of any of its sets; no id: never drilled.
    std::string drilled_id;
    v1::Drill drill;
  };
  virtual absl::StatusOr<std::vector<DeploymentSummary>> DeploymentSummaries(
      const std::string& namespace_, const std::string& release) = 0;
  // Removes a set's rows: its artifacts, jobs, file index and the set
  // itself, at once. The caller removes the stored objects first.
  virtual absl::Status DeleteSet(const std::string& id) = 0;

  // Records an artifact of a set (after its object is durable).
  virtual absl::Status AddArtifact(const v1::Artifact& artifact) = 0;
  // A set's artifacts, by target.
  virtual absl::StatusOr<std::vector<v1::Artifact>> ListArtifacts(
      const std::string& set_id) = 0;
  // Every artifact's store key, for reconciling the store after a crash.
  virtual absl::StatusOr<std::vector<std::string>> AllArtifactPaths() = 0;
  // The sets with an artifact under Object Lock after `now_unix`, each with
  // the latest such time: one query for retention, not one per set.
  virtual absl::StatusOr<std::map<std::string, int64_t>> LockedSets(
      int64_t now_unix) = 0;

  // The holds on deployments (v1::DeploymentHold), by namespace and
  // release. A deployment has at most one: PutHold replaces it.
  virtual absl::StatusOr<std::vector<v1::DeploymentHold>> Holds() = 0;
  virtual absl::Status PutHold(const v1::DeploymentHold& hold) = 0;
  // Ends the hold that restore `restore_id` has on a deployment; OK (and
  // nothing changed) when it has none there (another restore's hold stays).
  virtual absl::Status ReleaseHold(const std::string& namespace_,
                                   const std::string& release,
                                   const std::string& restore_id) = 0;

  // A StatefulSet a set scaled down (Deployment.scale_to_one) and has not
  // scaled back yet: recorded before the patch and forgotten once it is
  // back, so that a scheduler stopped in between scales it back when it
  // starts again. One per deployment: RecordScaledDown replaces it.
  struct ScaledDown {
    std::string namespace_, release;
    std::string set_id;  // the set whose window it was
    int replicas = 0;    // what it had, and goes back to
    int64_t since_unix = 0;
  };
  virtual absl::StatusOr<std::vector<ScaledDown>> ScaledDowns() = 0;
  virtual absl::Status RecordScaledDown(const ScaledDown& scaled) = 0;
  // Forgets the deployment's row when set `set_id` recorded it; OK (and
  // nothing changed) when it did not.
  virtual absl::Status ForgetScaledDown(const std::string& namespace_,
                                        const std::string& release,
                                        const std::string& set_id) = 0;

  // Marks every running set and unfinished job failed with `reason` (the
  // jobs with error_code ABORTED): the scheduler that ran them is gone.
  // Returns how many sets it failed.
  virtual absl::StatusOr<int> FailUnfinished(const std::string& reason,
                                             int64_t now_unix) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_SET_CATALOG_H_
