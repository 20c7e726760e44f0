// Reconcile brings a store in line with the catalog after a restart: it
// removes what interrupted writes left and every committed object no
// catalog row names (`known_keys`), and returns the keys it removed.
//
// Only while nothing writes to the store (at startup): an object being
// committed has no catalog row yet.
#ifndef DXBACKUP_SCHEDULER_STORE_STORE_RECONCILE_H_
#define DXBACKUP_SCHEDULER_STORE_STORE_RECONCILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

absl::StatusOr<std::vector<std::string>> Reconcile(
    ArtifactStore& store, const std::vector<std::string>& known_keys);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_STORE_STORE_RECONCILE_H_
