// The standby side of several schedulers on one PostgreSQL catalog
// (CatalogLock): before it starts, a scheduler whose config has
// catalog.postgres waits until it is the active one. Meanwhile it answers
// gRPC health checks on its listen address, if it can bind it: NOT_SERVING
// for "" (readiness, where the Service selects every replica: it sends the
// standby nothing), SERVING for "liveness" (so that Kubernetes leaves it
// running) and for "ready" (readiness where the Service selects the
// active pod by its label, --label-active-pod: a standby is Ready, so
// rolling updates and disruption budgets work). Once active, a
// watcher thread checks the lock every few seconds and ends the process
// (exit 1) the moment it is lost, rather than act beside another active
// scheduler.
//
//   auto active = AwaitActive(config, listen, tls, stop_requested);
//   if (!active.ok()) ...            // the catalog cannot be reached, or
//                                    // asked to stop while waiting
//   ... start the scheduler; keep *active alive while it runs.
//
// Thread-compatible: called once, from main.
#ifndef DXBACKUP_SCHEDULER_SERVER_STANDBY_H_
#define DXBACKUP_SCHEDULER_SERVER_STANDBY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tls.h"
#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

// While alive, watches the lock it holds (see above).
class ActiveScheduler {
 public:
  virtual ~ActiveScheduler() = default;
  // The catalog fence's epoch this scheduler took (CatalogLock::epoch):
  // its catalog writes only while it is current.
  virtual int64_t epoch() const = 0;
  // The lock was confirmed within the last few seconds (its checks run
  // every 3 s): false in a process that was frozen and has not yet
  // noticed it may have lost the lock, which must not act as active.
  virtual bool RecentlyConfirmed() const = 0;
};

// nullptr (nothing to wait for) when the catalog is SQLite. `stop` is
// polled while waiting; Cancelled when it said stop.
absl::StatusOr<std::unique_ptr<ActiveScheduler>> AwaitActive(
    const v1::SchedulerConfig& config, const std::string& listen,
    const common::TlsFlags& tls, const std::function<bool()>& stop);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SERVER_STANDBY_H_
