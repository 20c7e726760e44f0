// Reconcile brings a store in line with the catalog after a restart: it
// removes what interrupted writes left and every committed object no
// catalog row names (`known_keys`) of a set the catalog knows
// (`set_known`, by the key's <namespace>/<release>/<set>/ part), and
// returns the keys it removed.
//
// An object of a set the catalog has never heard of means the catalog is
// not the store's (lost, replaced, another installation's, or a move to
// PostgreSQL not yet migrated): then nothing at all is removed, and the
// error (FailedPrecondition) names such an object and what to do. A crash
// leaves orphans only of sets the catalog has rows for.
//
// Only while nothing writes to the store (at startup): an object being
// committed has no catalog row yet.
#ifndef DXBACKUP_SCHEDULER_STORE_STORE_RECONCILE_H_
#define DXBACKUP_SCHEDULER_STORE_STORE_RECONCILE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

absl::StatusOr<std::vector<std::string>> Reconcile(
    ArtifactStore& store, const std::vector<std::string>& known_keys,
    const std::function<bool(const std::string& set_id)>& set_known);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_STORE_STORE_RECONCILE_H_
