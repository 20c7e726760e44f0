// LeaseRouter routes deployments by ownership in the catalog
// (ReplicaLease): a deployment no live replica owns is claimed for this
// one, and before it is served here `take_over` ends what its previous
// owner left unfinished (sets it ran, holds, scale-downs). The takeover
// owed is kept in the catalog until it has succeeded, so a claim whose
// answer was lost, or a takeover that failed, is tried again at the next
// Route. While one caller takes a deployment over (on its own thread),
// others asking about it are told to try again (Unavailable) rather than
// wait: the agent service asks from a small pool of worker threads.
//
// Thread-safe. The lease must outlive it.
#ifndef DXBACKUP_SCHEDULER_REPLICAS_LEASE_ROUTER_H_
#define DXBACKUP_SCHEDULER_REPLICAS_LEASE_ROUTER_H_

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "scheduler/replicas/deployment_router.h"
#include "scheduler/replicas/replica_lease.h"

namespace dxbackup::scheduler {

class LeaseRouter : public DeploymentRouter {
 public:
  // Ends, for a deployment just claimed, what `previous` (a replica id;
  // "" when it had no live owner on record) left unfinished. An error
  // leaves the deployment claimed but not served: the next Route tries
  // again.
  using TakeOverFn = std::function<absl::Status(const std::string& namespace_,
                                                const std::string& release,
                                                const std::string& previous)>;

  LeaseRouter(ReplicaLease* lease, TakeOverFn take_over)
      : lease_(lease), take_over_(std::move(take_over)) {}

  absl::StatusOr<std::string> Route(const std::string& namespace_,
                                    const std::string& release) override;

 private:
  ReplicaLease* const lease_;
  const TakeOverFn take_over_;
  std::mutex mu_;
  std::set<std::string> taking_over_;  // deployments being taken over
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_REPLICAS_LEASE_ROUTER_H_
