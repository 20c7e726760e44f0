// DeploymentRouter says where a deployment's work is done when several
// scheduler replicas share a catalog: here, or at another replica's
// address. The agent service asks it for each agent that connects (an
// agent of a deployment run elsewhere is sent there: common/
// replica_redirect.h). A scheduler that is the only one needs none.
//
// Implementations are thread-safe.
#ifndef DXBACKUP_SCHEDULER_REPLICAS_DEPLOYMENT_ROUTER_H_
#define DXBACKUP_SCHEDULER_REPLICAS_DEPLOYMENT_ROUTER_H_

#include <string>

#include "absl/status/statusor.h"

namespace dxbackup::scheduler {

class DeploymentRouter {
 public:
  virtual ~DeploymentRouter() = default;
  // "" when this replica runs the deployment (it owns it now; what a
  // previous owner left unfinished has been ended first); otherwise the
  // address of the replica that does. An error when neither can be said
  // (the catalog unreachable, this replica's lease not trusted).
  virtual absl::StatusOr<std::string> Route(const std::string& namespace_,
                                            const std::string& release) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_REPLICAS_DEPLOYMENT_ROUTER_H_
