// AgentCatalog: the agents the scheduler has seen, kept across restarts so
// that sets know whom to expect. Implementations are thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_AGENT_CATALOG_H_
#define DXBACKUP_SCHEDULER_CATALOG_AGENT_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"

namespace dxbackup::scheduler {

class AgentCatalog {
 public:
  virtual ~AgentCatalog() = default;

  // Inserts or replaces the agent with this id; `connected` is not stored
  // (the registry knows it).
  virtual absl::Status UpsertAgent(const v1::AgentInfo& agent) = 0;
  // Ordered by namespace, release, component, pod.
  virtual absl::StatusOr<std::vector<v1::AgentInfo>> ListAgents() = 0;
  // One deployment's, ordered by component, pod: what a set starting
  // reads, without reading (and parsing) every agent of the fleet.
  virtual absl::StatusOr<std::vector<v1::AgentInfo>> ListAgentsOf(
      const std::string& namespace_, const std::string& release) = 0;
  // Removes an agent's row; OK when there was none.
  virtual absl::Status DeleteAgent(const std::string& id) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_AGENT_CATALOG_H_
