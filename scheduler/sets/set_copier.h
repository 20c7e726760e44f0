// SetCopier keeps a policy's second copy: after each complete set it
// exports the set (plain files, manifest, RESTORE.txt; see SetExporter) to
// <copy_to.directory>/<namespace>/<release>/<set-id>, or as objects to the
// same keys in the policy's copy_to.s3 bucket (see store_copy.h), then
// applies the copy's own retention to the copies of that group, reading
// their times from their manifests. The copies outlive the store: pruning
// the store does not touch them.
//
// Thread-safe; one copy at a time.
#ifndef DXBACKUP_SCHEDULER_SETS_SET_COPIER_H_
#define DXBACKUP_SCHEDULER_SETS_SET_COPIER_H_

#include <map>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/sets/set_exporter.h"

namespace dxbackup::scheduler {

// The copy_to.s3 buckets, by policy name (opened at start-up).
using CopyStores = std::map<std::string, ArtifactStore*>;

class SetCopier {
 public:
  // `sets` and `store`: what is exported (see SetExporter); `clock`: the
  // export time and "now" for the copies' retention; `copy_stores`: the
  // policies' copy buckets. All must outlive the copier.
  SetCopier(SetCatalog* sets, ArtifactStore* store, const common::Clock* clock,
            const CopyStores* copy_stores);

  absl::Status CopyAndPrune(const v1::Policy& policy, const v1::BackupSet& set);

 private:
  absl::Status PruneCopies(const v1::Policy& policy, const std::string& dir);
  absl::Status CopyToBucket(const v1::Policy& policy, const v1::BackupSet& set);

  SetCatalog* sets_;
  ArtifactStore* store_;
  const common::Clock* clock_;
  const CopyStores* copy_stores_;
  SetExporter exporter_;
  std::mutex mu_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_SET_COPIER_H_
