// RunHook runs a quiesce hook's command in the agent's pod: argv as given
// (or `sh -c command[0]` when the hook asks for a shell), with its extra
// environment, killed if it outlives its timeout. OK when it exits 0;
// otherwise an error naming the hook, the exit status or the timeout, and
// the tail of its output. The timeout is waited for through `time`.
#ifndef DXBACKUP_AGENT_HOOK_RUNNER_H_
#define DXBACKUP_AGENT_HOOK_RUNNER_H_

#include "absl/status/status.h"
#include "common/time_source.h"
#include "dxbackup/v1/agent.pb.h"

namespace dxbackup::agent {

absl::Status RunHook(const v1::HookCommand& hook,
                     const common::TimeSource& time = common::RealTime());

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_HOOK_RUNNER_H_
