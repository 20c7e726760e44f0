// SetCopier keeps a policy's second copy: after each complete set it
// exports the set (plain files, manifest, RESTORE.txt; see SetExporter) to
// <copy_to.directory>/<namespace>/<release>/<set-id>, then applies the
// copy's own retention to the copies of that group, reading their times
// from their manifests. The copies outlive the store: pruning the store
// does not touch them.
//
// Thread-safe; one copy at a time.
#ifndef DXBACKUP_SCHEDULER_SETS_SET_COPIER_H_
#define DXBACKUP_SCHEDULER_SETS_SET_COPIER_H_

#include <mutex>

#include "absl/status/status.h"
#include "scheduler/scheduler_state.h"
#include "scheduler/sets/set_exporter.h"

namespace dxbackup::scheduler {

class SetCopier {
 public:
  explicit SetCopier(SchedulerState state);

  absl::Status CopyAndPrune(const v1::Policy& policy, const v1::BackupSet& set);

 private:
  absl::Status PruneCopies(const v1::Policy& policy, const std::string& dir);

  SchedulerState state_;
  SetExporter exporter_;
  std::mutex mu_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_SET_COPIER_H_
