#include "scheduler/sets/artifact_chain.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler {

absl::StatusOr<std::vector<v1::Artifact>> ArtifactChain(
    SetCatalog& catalog, const v1::Artifact& artifact) {
  std::vector<v1::Artifact> chain;
  for (const v1::Artifact* link = &artifact; !link->base_set_id().empty();
       link = &chain.back()) {
    if (chain.size() > 1000) {
      return absl::DataLossError("the chain of bases loops; take a full set");
    }
    const std::string base_id = link->base_set_id();
    absl::StatusOr<v1::BackupSet> base = catalog.GetSet(base_id);
    if (!base.ok()) {
      return absl::DataLossError(absl::StrCat(
          "base set ", base_id, " of the incremental chain is gone"));
    }
    if (base->status() != v1::SET_COMPLETE ||
        base->verification().result() == v1::Verification::CORRUPT) {
      return absl::FailedPreconditionError(absl::StrCat(
          "base set ", base_id, " of the incremental chain is ",
          base->verification().result() == v1::Verification::CORRUPT
              ? "corrupt (" + base->verification().detail() + ")"
              : v1::SetStatus_Name(base->status()),
          "; restore another set"));
    }
    auto artifacts = catalog.ListArtifacts(base_id);
    if (!artifacts.ok()) return artifacts.status();
    auto it = std::find_if(
        artifacts->begin(), artifacts->end(),
        [&](const v1::Artifact& a) { return a.target() == artifact.target(); });
    if (it == artifacts->end()) {
      return absl::DataLossError(
          absl::StrCat("base set ", base_id, " has no ", artifact.target()));
    }
    chain.push_back(*it);
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

}  // namespace dxbackup::scheduler
