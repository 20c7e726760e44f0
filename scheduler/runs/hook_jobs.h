// Hook jobs: a deployment's quiesce hooks as jobs on the board, for backup
// sets and whole-set restores alike.
//
//   std::vector<HookJob> pre = PlanHooks(deployment, agents, v1::Hook::PRE);
//   ... add each job to the board ...
//   std::vector<v1::Job> done = RunHookJobs(registry, board, time, pre);
#ifndef DXBACKUP_SCHEDULER_RUNS_HOOK_JOBS_H_
#define DXBACKUP_SCHEDULER_RUNS_HOOK_JOBS_H_

#include <string>
#include <vector>

#include "common/time_source.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/jobs/job_board.h"

namespace dxbackup::scheduler {

struct HookJob {
  v1::Job job;  // id and set_id left to the caller; kind, target, agent set
  const v1::Hook* hook;
  std::string pod;  // the agent's; the hook sees it as DXBACKUP_POD
};

// One job per hook of `phase` and connected agent of the hook's component.
std::vector<HookJob> PlanHooks(const v1::Deployment* deployment,
                               const std::vector<v1::AgentInfo>& agents,
                               v1::Hook::Phase phase);

// Sends each hook (already on the board) to its agent, giving an agent that
// is reconnecting the hook's timeout to come back, and waits for all.
// Returns the final jobs in the same order. `registry`: the agents sent to;
// `board`: the hooks' jobs; `time`: how the wait for a reconnecting agent
// sleeps.
std::vector<v1::Job> RunHookJobs(AgentRegistry* registry, JobBoard* board,
                                 const common::TimeSource& time,
                                 const std::vector<HookJob>& hooks);

// Why the work after `pre` must be skipped: "skipped: <hook> failed: ..."
// for the first pre-hook that failed and may not (on_failure is not
// CONTINUE); "" when none did. `results` are RunHookJobs(pre)'s.
std::string PreHookBlock(const std::vector<HookJob>& pre,
                         const std::vector<v1::Job>& results);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_HOOK_JOBS_H_
