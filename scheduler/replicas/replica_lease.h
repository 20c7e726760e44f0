// ReplicaLease is this scheduler's life as one of several replicas sharing
// a catalog (ReplicaCatalog): it registers the replica with its address,
// renews its lease every kRenewEvery on a thread of its own, and claims
// deployments for it. Whatever this replica does for a deployment — hold
// its agents, run its sets and restores — it does only while Owns() says
// so, and Owns() holds only while the lease is trusted: renewed within
// kTrustFor (by this machine's monotonic clock, from when the renewal was
// sent), which ends well before the catalog's clock lets the lease lapse
// (kTtl). So a replica that runs but cannot renew (the catalog
// unreachable) stops acting before any other replica may take its
// deployments over. Time alone does not fence a process that is frozen
// past its lease (paused, its host suspended) and acts again before its
// watchdog looks, nor a catalog server whose clock jumps forward: that
// needs its catalog writes to check ownership in their own transactions,
// which the replicas mode is to add (as the active scheduler's writes
// check the fence's epoch, catalog_fence.h).
//
//   auto lease = ReplicaLease::Start(&catalog->replicas(), {id, address},
//                                    time, [](const absl::Status& why) {
//                                      ... stop at once (exit) ...
//                                    });
//   auto owner = (*lease)->Claim("dx-prod", "dx");
//   if (owner->claimed) ... end what owner->previous left running ...
//   if (owner->replica_id != (*lease)->id()) ... send the caller to
//                                                owner->address ...
//
// `on_lost` is called once, from the lease's watchdog thread, when the
// catalog refused a renewal (the lease lapsed) or none succeeded for
// kTrustFor; the caller must stop acting for every deployment at once.
// The destructor stops the threads and retires the replica (its
// deployments are free at once), unless the lease was lost.
//
// Thread-safe. The catalog and time source must outlive it.
#ifndef DXBACKUP_SCHEDULER_REPLICAS_REPLICA_LEASE_H_
#define DXBACKUP_SCHEDULER_REPLICAS_REPLICA_LEASE_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/time_source.h"
#include "scheduler/catalog/replica_catalog.h"

namespace dxbackup::scheduler {

class ReplicaLease {
 public:
  // The lease, on the catalog's clock.
  static constexpr absl::Duration kTtl = absl::Seconds(20);
  static constexpr absl::Duration kRenewEvery = absl::Seconds(3);
  // How long a renewal is trusted, from when it was sent: the margin to
  // kTtl covers a clock that runs slower than the catalog's and the
  // time it takes to stop.
  static constexpr absl::Duration kTrustFor = absl::Seconds(14);

  using LostFn = std::function<void(const absl::Status&)>;

  // Registers `replica` and starts renewing. An error when the catalog
  // cannot be reached or the id is taken.
  static absl::StatusOr<std::unique_ptr<ReplicaLease>> Start(
      ReplicaCatalog* catalog, ReplicaCatalog::Replica replica,
      const common::TimeSource* time, LostFn on_lost);
  ~ReplicaLease();

  // A new replica id: `host` (the pod's name) and a random suffix, since
  // each process is a new replica.
  static std::string NewId(const std::string& host);

  const std::string& id() const { return replica_.id; }
  const std::string& address() const { return replica_.address; }

  // The deployment's owner, claiming it for this replica when no live
  // replica owns it (ReplicaCatalog::ClaimDeployment). FailedPrecondition
  // while the lease is not trusted. While the owner's `claimed` says a
  // takeover is owed, Owns() is false: CompleteTakeover, once it is done.
  absl::StatusOr<ReplicaCatalog::Owner> Claim(const std::string& namespace_,
                                              const std::string& release);
  // The takeover of a deployment this replica claimed is done (in the
  // catalog too): from now on it Owns() it.
  absl::Status CompleteTakeover(const std::string& namespace_,
                                const std::string& release);
  // Gives a deployment this replica owns up.
  absl::Status Release(const std::string& namespace_,
                       const std::string& release);
  // This replica owns the deployment (claimed, taken over, not released)
  // and its lease is trusted.
  bool Owns(const std::string& namespace_, const std::string& release) const;
  // Renewed within kTrustFor and not lost.
  bool Trusted() const;

 private:
  ReplicaLease(ReplicaCatalog* catalog, ReplicaCatalog::Replica replica,
               const common::TimeSource* time, LostFn on_lost);
  bool TrustedLocked() const;
  // Renews every kRenewEvery until stopped.
  void RenewLoop();
  // Calls on_lost once the lease is refused or goes untrusted.
  void WatchLoop();
  void LoseLocked(const absl::Status& why);

  ReplicaCatalog* const catalog_;
  const ReplicaCatalog::Replica replica_;
  const common::TimeSource* const time_;
  const LostFn on_lost_;

  mutable std::mutex mu_;
  // One each, so that waking one thread does not wake the other.
  std::condition_variable renew_cv_;
  std::condition_variable watch_cv_;
  bool stopping_ = false;
  bool lost_ = false;
  absl::Status lost_why_;  // set with lost_, reported by the watchdog
  bool lost_reported_ = false;
  // When the last successful renewal (or the registration) was sent.
  common::TimeSource::MonotonicTime renewed_sent_;
  std::set<std::pair<std::string, std::string>> owned_;
  std::thread renewer_;
  std::thread watchdog_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_REPLICAS_REPLICA_LEASE_H_
