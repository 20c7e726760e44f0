#include "scheduler/jobs/job_dispatch.h"

namespace dxbackup::scheduler {

bool DispatchToAgent(const SchedulerState& state, const std::string& job_id,
                     const std::string& agent_id,
                     const v1::SchedulerMessage& command) {
  const uint64_t session = state.registry->SessionOf(agent_id);
  if (session == 0) return false;
  // Bound before sending: the agent may answer at once.
  state.board->MarkRunning(job_id, agent_id, session);
  return state.registry->SendToSession(agent_id, session, command);
}

}  // namespace dxbackup::scheduler
