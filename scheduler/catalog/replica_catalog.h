// ReplicaCatalog: the schedulers that share one catalog (replicas), and
// which of them owns each deployment. A deployment's owner is the one
// replica that holds its agents' streams, runs its sets, restores and
// drills, and alone writes them (docs/architecture.md, "Growing past one
// machine"). Ownership is claimed, not assigned: the first live replica
// to claim a deployment owns it until it releases it, retires, or lets
// its own lease lapse; then the next claim takes it.
//
// A replica is live while its lease has not expired. Expiry is counted on
// the catalog server's clock alone (the replicas' clocks may differ): a
// replica registers and renews for `ttl_ms` from the server's now, and a
// lease that lapsed stays lapsed (RenewReplica refuses it), so that a
// replica which was frozen or cut off past its lease cannot come back as
// the owner of deployments another replica has since taken over. The
// replica itself stops acting well before its lease ends when it cannot
// renew (replicas/replica_lease.h).
//
// Implementations are thread-safe. Exactly one of concurrent claims of a
// deployment wins, also across processes sharing a PostgreSQL catalog.
#ifndef DXBACKUP_SCHEDULER_CATALOG_REPLICA_CATALOG_H_
#define DXBACKUP_SCHEDULER_CATALOG_REPLICA_CATALOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dxbackup::scheduler {

class ReplicaCatalog {
 public:
  struct Replica {
    std::string id;       // one per process: a restart is a new replica
    std::string address;  // where agents and the CLI reach it (host:port)
  };
  struct Owner {
    std::string replica_id;  // the owner after the claim
    std::string address;     // its address
    // True while the caller owns the deployment and owes its takeover:
    // from the claim that made it the owner (the deployment had no owner,
    // or its owner's lease had lapsed: then `previous` names that
    // replica) until CompleteTakeover. Whatever a previous owner left
    // running is the caller's to end before it acts on the deployment;
    // kept in the catalog, so a claim whose answer was lost owes it still.
    bool claimed = false;
    std::string previous;
  };
  struct Deployment {
    std::string namespace_, release;
  };

  virtual ~ReplicaCatalog() = default;

  // Adds `replica`, live for `ttl_ms` from now. AlreadyExists when its id
  // is taken.
  virtual absl::Status RegisterReplica(const Replica& replica,
                                       int64_t ttl_ms) = 0;
  // Extends the lease of replica `id` to `ttl_ms` from now (a ttl_ms of
  // 0 or less ends it now), only while it is live: FailedPrecondition,
  // saying so, once it lapsed or retired (the replica must stop acting
  // for its deployments at once).
  virtual absl::Status RenewReplica(const std::string& id, int64_t ttl_ms) = 0;
  // Ends replica `id`'s lease and frees its deployments at once (a clean
  // stop: the next claim of each takes it without waiting for expiry).
  virtual absl::Status RetireReplica(const std::string& id) = 0;
  // The live replicas, by id.
  virtual absl::StatusOr<std::vector<Replica>> LiveReplicas() = 0;

  // Makes replica `id` the owner of namespace/release when no live
  // replica owns it, in one step; returns the owner after the call. A
  // replica that is not live claims nothing (FailedPrecondition).
  virtual absl::StatusOr<Owner> ClaimDeployment(const std::string& namespace_,
                                                const std::string& release,
                                                const std::string& id) = 0;
  // Replica `id`, owning the deployment, has ended what its previous
  // owner left: later claims say `claimed` false. FailedPrecondition when
  // `id` does not own it (released, or taken over since). `previous`
  // stays the replica whose work was owed: a claim from an owner that
  // never completed its own takeover names the one before.
  virtual absl::Status CompleteTakeover(const std::string& namespace_,
                                        const std::string& release,
                                        const std::string& id) = 0;
  // Gives the deployment up, if replica `id` owns it.
  virtual absl::Status ReleaseDeployment(const std::string& namespace_,
                                         const std::string& release,
                                         const std::string& id) = 0;
  // The deployments replica `id` owns, by namespace and release.
  virtual absl::StatusOr<std::vector<Deployment>> OwnedDeployments(
      const std::string& id) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_REPLICA_CATALOG_H_
