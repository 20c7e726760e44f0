// DispatchToAgent gives a job to an agent: to the connection the agent has
// now, which alone may then report on the job (JobBoard::Progress,
// ReportResult), so that no other agent, nor an older connection of the
// same one, can end or feed it.
#ifndef DXBACKUP_SCHEDULER_JOBS_JOB_DISPATCH_H_
#define DXBACKUP_SCHEDULER_JOBS_JOB_DISPATCH_H_

#include <string>

#include "dxbackup/v1/agent.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/jobs/job_board.h"

namespace dxbackup::scheduler {

// Marks `job_id` running on the current connection of `agent_id` and sends
// `command` there. False when the agent is not connected, or its connection
// changed meanwhile (the caller decides whether to retry or fail the job).
// `registry`: the agent's connection, sent to; `board`: the job, bound to
// that connection. When the job fails later (JobBoard::CancellationOf), the
// agent is sent a CancelJob for it. `registry` must outlive the job on
// `board`. Thread-safe.
bool DispatchToAgent(AgentRegistry* registry, JobBoard* board,
                     const std::string& job_id, const std::string& agent_id,
                     const v1::SchedulerMessage& command);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_JOBS_JOB_DISPATCH_H_
