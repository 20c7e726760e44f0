#include "scheduler/periodic/after_policy_set.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace dxbackup::scheduler {

void AfterPolicySet::Ended(const v1::Policy& policy, const PlanKey& key,
                           const v1::BackupSet& set) {
  if (set.status() == v1::SET_COMPLETE &&
      (!policy.copy_to().directory().empty() || policy.copy_to().has_s3())) {
    const std::string where =
        policy.copy_to().has_s3()
            ? absl::StrCat("s3://", policy.copy_to().s3().bucket(), "/",
                           policy.copy_to().s3().prefix())
            : policy.copy_to().directory();
    absl::Status copied = copier_.CopyAndPrune(policy, set);
    if (copied.ok()) {
      DXLOG(INFO) << "copied set " << set.id() << " to " << where;
    } else {
      DXLOG(ERROR) << "copy of set " << set.id() << ": " << copied.message();
      v1::BackupSet marked = set;
      marked.add_warnings(
          absl::StrCat("copy to ", where, " failed: ", copied.message()));
      sets_->UpdateSet(marked).IgnoreError();
    }
  }
  auto pruned = pruner_->PruneGroup(policy, key.namespace_, key.release, false);
  if (!pruned.ok()) {
    DXLOG(ERROR) << "prune of " << key.ToString() << ": "
                 << pruned.status().message();
  }
  if (file_index_ != nullptr) {
    // Failures are logged per set; the rows stay in the catalog.
    file_index_->Apply(key.namespace_, key.release).IgnoreError();
  }
}

}  // namespace dxbackup::scheduler
