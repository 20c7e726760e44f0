// ScheduleSlotCatalog: the last schedule slot each policy (and each
// verification schedule) took for each deployment, so that a restarted
// scheduler neither repeats nor forgets a slot. Implementations are
// thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_SCHEDULE_SLOT_CATALOG_H_
#define DXBACKUP_SCHEDULER_CATALOG_SCHEDULE_SLOT_CATALOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dxbackup::scheduler {

class ScheduleSlotCatalog {
 public:
  struct ScheduleSlot {
    std::string policy, namespace_, release;
    int64_t last_slot_unix = 0;
  };

  virtual ~ScheduleSlotCatalog() = default;
  virtual absl::StatusOr<std::vector<ScheduleSlot>> ScheduleSlots() = 0;
  // Inserts or replaces the slot of (policy, namespace, release).
  virtual absl::Status SaveScheduleSlot(const ScheduleSlot& slot) = 0;
  // Takes the slot for this caller: records it when the catalog has no
  // slot of (policy, namespace, release) or an earlier one, in one step,
  // and says whether this call did. Of schedulers sharing a catalog that
  // claim the same slot, exactly one gets true.
  virtual absl::StatusOr<bool> ClaimScheduleSlot(const ScheduleSlot& slot) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_SCHEDULE_SLOT_CATALOG_H_
