// Reconcile brings a store in line with the catalog after a restart: it
// removes what interrupted writes left and every committed object that no
// catalog row names (`known_keys`) of a set the catalog knows (`set_known`,
// by the key's <namespace>/<release>/<set>/ part): the orphans a crash
// leaves. An object of a set the catalog does not know is never removed:
// it is left, and reported, as it may be someone's backup.
//
// When the store holds objects and the catalog knows none of them, the
// catalog is not the store's (lost, replaced, another installation's, or
// moved to PostgreSQL before `migrate-catalog`): then nothing is removed,
// and the error (FailedPrecondition) names an object and what to do.
//
// Only while nothing writes to the store (at startup): an object being
// committed has no catalog row yet. With a `prefix` ("ns/dx/"), only
// under it: for a deployment a replica has just taken over, while other
// replicas write elsewhere. Objects there of sets the catalog lacks are
// left, as always, but do not make it an error (one deployment's objects
// say nothing of whose catalog this is).
#ifndef DXBACKUP_SCHEDULER_STORE_STORE_RECONCILE_H_
#define DXBACKUP_SCHEDULER_STORE_STORE_RECONCILE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

struct Reconciled {
  std::vector<std::string> removed;  // interrupted writes and orphans
  std::vector<std::string> left;     // objects of sets the catalog lacks
};

absl::StatusOr<Reconciled> Reconcile(
    ArtifactStore& store, const std::vector<std::string>& known_keys,
    const std::function<bool(const std::string& set_id)>& set_known,
    const std::string& prefix = "");

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_STORE_STORE_RECONCILE_H_
