#include "scheduler/jobs/job_dispatch.h"

namespace dxbackup::scheduler {

bool DispatchToAgent(AgentRegistry* registry, JobBoard* board,
                     const std::string& job_id, const std::string& agent_id,
                     const v1::SchedulerMessage& command) {
  const uint64_t session = registry->SessionOf(agent_id);
  if (session == 0) return false;
  // Bound before sending: the agent may answer at once.
  board->MarkRunning(job_id, agent_id, session);
  if (!registry->SendToSession(agent_id, session, command)) return false;
  // Sent first, so that the agent knows the job a CancelJob names.
  if (std::shared_ptr<common::Cancellation> cancel =
          board->CancellationOf(job_id)) {
    cancel->OnCancel(
        [registry, agent_id, session, job_id](const std::string& why) {
          v1::SchedulerMessage stop;
          stop.mutable_cancel_job()->set_job_id(job_id);
          stop.mutable_cancel_job()->set_reason(why);
          registry->SendToSession(agent_id, session, stop);
        });
  }
  return true;
}

}  // namespace dxbackup::scheduler
