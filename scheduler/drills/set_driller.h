// SetDriller runs one restore drill of a set (DrillRunner); the policies'
// scheduled drills (PolicyDriller) go through it, and tests give their own.
//
// Thread-safe; Drill blocks until the drill ended.
#ifndef DXBACKUP_SCHEDULER_DRILLS_SET_DRILLER_H_
#define DXBACKUP_SCHEDULER_DRILLS_SET_DRILLER_H_

#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"

namespace dxbackup::scheduler {

class SetDriller {
 public:
  virtual ~SetDriller() = default;
  // An error when the drill could not run at all (an unknown set, a bad
  // directory); otherwise its result, recorded on the set.
  virtual absl::StatusOr<v1::DrillResponse> Drill(
      const v1::DrillRequest& request) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_DRILLS_SET_DRILLER_H_
