// ArtifactChain: the artifacts an incremental or differential volume
// artifact builds on, oldest (the full) first, following base_set_id. A
// restore applies them in that order and then the artifact itself. An error
// names the link that is missing (pruned, or without that target) or not
// sound (not complete, or found corrupt).
#ifndef DXBACKUP_SCHEDULER_SETS_ARTIFACT_CHAIN_H_
#define DXBACKUP_SCHEDULER_SETS_ARTIFACT_CHAIN_H_

#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/catalog/set_catalog.h"

namespace dxbackup::scheduler {

// Empty for a full artifact.
absl::StatusOr<std::vector<v1::Artifact>> ArtifactChain(
    SetCatalog& catalog, const v1::Artifact& artifact);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_ARTIFACT_CHAIN_H_
