// RunStarter is how the policy slots start a backup set: the scheduler's
// BackupSetRunner in production (BackupRunStarter), a fake in tests.
// Start() returns at once; `on_end` is called once, on any thread, with
// the set's final state, unless Start() fails (then it is not called).
// ResourceExhausted: the catalog's fleet-wide limits let no set start now
// (others run, of this scheduler or of replicas sharing the catalog); the
// run is tried again later.
// Implementations are thread-safe.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_RUN_STARTER_H_
#define DXBACKUP_SCHEDULER_PERIODIC_RUN_STARTER_H_

#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "dxbackup/v1/admin.pb.h"
#include "scheduler/runs/backup_set_runner.h"

namespace dxbackup::scheduler {

class RunStarter {
 public:
  using EndFn = std::function<void(const v1::BackupSet&)>;
  virtual ~RunStarter() = default;
  virtual absl::Status Start(const v1::BackupRequest& request,
                             EndFn on_end) = 0;
};

// Starts sets on a BackupSetRunner, which must outlive it; with
// `within`, only while the catalog counts fewer running sets than those
// limits (replicas sharing the catalog: the policy queue's own count is
// this scheduler's alone).
class BackupRunStarter : public RunStarter {
 public:
  BackupRunStarter(BackupSetRunner* backups, std::optional<SetLimits> within)
      : backups_(backups), within_(within) {}
  absl::Status Start(const v1::BackupRequest& request, EndFn on_end) override {
    return backups_
        ->Start(request, std::move(on_end),
                within_.has_value() ? &*within_ : nullptr)
        .status();
  }

 private:
  BackupSetRunner* backups_;
  const std::optional<SetLimits> within_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_RUN_STARTER_H_
