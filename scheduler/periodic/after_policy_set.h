// AfterPolicySet is what follows a policy's set when it ends: a complete
// set is copied to the policy's copy_to directory or bucket (SetCopier, with
// the copy's own retention), then the set's group is pruned and its
// deployment's older sets' file index moved to the store
// (FileIndexRetention). Called on the
// thread the set ended on (PolicySlots' on_end), so that a long copy holds
// up no periodic task. Thread-safe.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_AFTER_POLICY_SET_H_
#define DXBACKUP_SCHEDULER_PERIODIC_AFTER_POLICY_SET_H_

#include "dxbackup/v1/admin.pb.h"
#include "scheduler/periodic/file_index_retention.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/policy/policy_queue.h"
#include "scheduler/sets/set_copier.h"

namespace dxbackup::scheduler {

class AfterPolicySet {
 public:
  // `sets`: the set copied, and where a failed copy is noted; `store`: its
  // files, copied; `clock`: the copy's time and its retention's "now";
  // `pruner`: prunes the set's group; `copy_stores`: the policies' copy
  // buckets; `file_index` (nullptr: none): moves older sets' rows. All
  // must outlive it.
  AfterPolicySet(SetCatalog* sets, ArtifactStore* store,
                 const common::Clock* clock, Pruner* pruner,
                 const CopyStores* copy_stores,
                 FileIndexRetention* file_index = nullptr)
      : sets_(sets),
        pruner_(pruner),
        file_index_(file_index),
        copier_(sets, store, clock, copy_stores) {}

  void Ended(const v1::Policy& policy, const PlanKey& key,
             const v1::BackupSet& set);

 private:
  SetCatalog* sets_;
  Pruner* pruner_;
  FileIndexRetention* file_index_;
  SetCopier copier_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_AFTER_POLICY_SET_H_
