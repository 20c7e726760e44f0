#include "scheduler/jobs/job_dispatch.h"

namespace dxbackup::scheduler {

bool DispatchToAgent(AgentRegistry* registry, JobBoard* board,
                     const std::string& job_id, const std::string& agent_id,
                     const v1::SchedulerMessage& command) {
  const uint64_t session = registry->SessionOf(agent_id);
  if (session == 0) return false;
  // Bound before sending: the agent may answer at once.
  board->MarkRunning(job_id, agent_id, session);
  return registry->SendToSession(agent_id, session, command);
}

}  // namespace dxbackup::scheduler
