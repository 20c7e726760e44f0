// DeploymentScope says which deployments a scheduler looks after on its
// own initiative: the policies' runs, retention, the file index's moves,
// forgetting gone agents, telling of stale deployments. The only
// scheduler (or the active one among standbys) looks after every one; of
// active replicas sharing a catalog, each looks after those it owns
// (ReplicaLease::Owns), so that two never act for one deployment.
//
// Called from the periodic tasks' threads: an implementation is cheap
// (no catalog call) and thread-safe.
#ifndef DXBACKUP_SCHEDULER_REPLICAS_DEPLOYMENT_SCOPE_H_
#define DXBACKUP_SCHEDULER_REPLICAS_DEPLOYMENT_SCOPE_H_

#include <functional>
#include <string>

namespace dxbackup::scheduler {

// Empty: every deployment.
using DeploymentScope = std::function<bool(const std::string& namespace_,
                                           const std::string& release)>;

inline bool InScope(const DeploymentScope& scope, const std::string& namespace_,
                    const std::string& release) {
  return !scope || scope(namespace_, release);
}

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_REPLICAS_DEPLOYMENT_SCOPE_H_
