// SecondarySchedules keeps the slots of a schedule policies have besides
// their backups' — the scheduled verification (Policy.verify), the restore
// drills (Policy.drill) — for whoever runs the work at those slots
// (PolicyVerifier, PolicyDriller). Slots are persisted in the catalog's
// schedule slots under "<prefix><policy>" ("verify:nightly"), so a
// restart neither repeats a slot nor forgets one; slots missed while the
// scheduler was down collapse into one. A policy whose work is still
// running when its next slot comes is not started twice.
//
//   SecondarySchedules slots(config, catalog, "drill:",
//                            [](const v1::Policy& p) {
//                              return p.drill().schedule(); });
//   slots.Load(now);
//   for (const v1::Policy* p : slots.TakeDue(now)) { ...; slots.Done(*p); }
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_SECONDARY_SCHEDULES_H_
#define DXBACKUP_SCHEDULER_PERIODIC_SECONDARY_SCHEDULES_H_

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/schedule_slot_catalog.h"

namespace dxbackup::scheduler {

class SecondarySchedules {
 public:
  // A policy's schedule of this kind; "" means it has none.
  using ScheduleOf = std::function<std::string(const v1::Policy&)>;
  // `config` and `slots` must outlive this.
  SecondarySchedules(const v1::SchedulerConfig& config,
                     ScheduleSlotCatalog* slots, std::string prefix,
                     ScheduleOf schedule_of);

  // Reads the persisted slots; a policy with none starts counting at `now`.
  absl::Status Load(absl::Time now);
  // The policies with a slot due at `now` and not running, now marked
  // running (their slots persisted).
  std::vector<const v1::Policy*> TakeDue(absl::Time now);
  // The work of `policy` ended: its next slot may start it.
  void Done(const v1::Policy& policy);
  // The earliest next slot of any policy after `now` (InfiniteFuture: none).
  absl::Time NextDue(absl::Time now) const;
  // Policy `name`'s next slot after `now`, and the last one taken (none
  // before the first); nullopt for a policy without this schedule.
  struct Times {
    std::optional<absl::Time> next;
    std::optional<absl::Time> last_taken;
  };
  std::optional<Times> TimesOf(const std::string& name, absl::Time now) const;
  // The catalog's key of `policy`'s slots: prefix + policy.
  std::string SlotKey(const std::string& policy) const;
  // Among active replicas, each does the work of a slot for the
  // deployments it owns: a slot is recorded in the catalog (a restart does
  // not repeat it) but not competed for. Before Load.
  void ShareAmongReplicas() { shared_ = true; }

 private:
  const v1::SchedulerConfig& config_;
  ScheduleSlotCatalog* slot_catalog_;
  std::string prefix_;
  ScheduleOf schedule_of_;
  bool shared_ = false;
  mutable std::mutex mu_;
  struct Slot {
    absl::Time last;     // slots up to this one are done
    bool taken = false;  // false: `last` is when the scheduler started
  };
  std::map<std::string, Slot> slots_;  // by policy name
  std::set<std::string> running_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_SECONDARY_SCHEDULES_H_
