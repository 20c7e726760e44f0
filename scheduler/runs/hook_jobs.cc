#include "scheduler/runs/hook_jobs.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "scheduler/jobs/job_dispatch.h"

namespace dxbackup::scheduler {
namespace {
constexpr int kDefaultHookTimeoutSeconds = 120;
}  // namespace

std::vector<HookJob> PlanHooks(const v1::Deployment* deployment,
                               const std::vector<v1::AgentInfo>& agents,
                               v1::Hook::Phase phase) {
  std::vector<HookJob> out;
  if (deployment == nullptr) return out;
  for (const v1::Hook& hook : deployment->hooks()) {
    if (hook.phase() != phase) continue;
    for (const v1::AgentInfo& agent : agents) {
      if (agent.component() != hook.component() || !agent.connected()) continue;
      HookJob h{{}, &hook, agent.pod()};
      h.job.set_kind(v1::JOB_HOOK);
      h.job.set_target(absl::StrCat(phase == v1::Hook::POST ? "post" : "pre",
                                    "-hook/", hook.name(), "@", agent.pod()));
      h.job.set_agent_id(agent.id());
      out.push_back(std::move(h));
    }
  }
  return out;
}

std::vector<v1::Job> RunHookJobs(AgentRegistry* registry, JobBoard* board,
                                 const common::TimeSource& time,
                                 const std::vector<HookJob>& hooks) {
  std::vector<std::string> ids;
  for (const HookJob& h : hooks) {
    const std::string& id = h.job.id();
    const std::string& agent = h.job.agent_id();
    ids.push_back(id);
    v1::SchedulerMessage command;
    v1::HookCommand* hook = command.mutable_hook();
    hook->set_job_id(id);
    hook->set_name(h.hook->name());
    *hook->mutable_command() = h.hook->command();
    hook->set_shell(h.hook->shell());
    *hook->mutable_env() = h.hook->env();
    // Which pod runs it, for a hook of several pods sharing a volume.
    if (!h.pod.empty()) (*hook->mutable_env())["DXBACKUP_POD"] = h.pod;
    hook->set_timeout_seconds(h.hook->timeout_seconds());
    // A post-hook must run wherever its pre-hook did: an agent that is
    // reconnecting gets the hook's timeout to come back.
    const int patience = h.hook->timeout_seconds() > 0
                             ? h.hook->timeout_seconds()
                             : kDefaultHookTimeoutSeconds;
    bool sent = DispatchToAgent(registry, board, id, agent, command);
    for (int waited = 0; !sent && waited < patience; ++waited) {
      time.SleepUntil(time.Monotonic() + std::chrono::seconds(1));
      sent = DispatchToAgent(registry, board, id, agent, command);
    }
    if (!sent) {
      board->Finish(
          id, absl::UnavailableError(absl::StrCat(
                  "agent ", agent, " was not connected to run the hook")));
    }
  }
  return board->WaitAndRemove(ids);
}

std::string PreHookBlock(const std::vector<HookJob>& pre,
                         const std::vector<v1::Job>& results) {
  for (size_t i = 0; i < pre.size() && i < results.size(); ++i) {
    if (results[i].status() != v1::JOB_SUCCEEDED &&
        pre[i].hook->on_failure() != v1::Hook::CONTINUE) {
      return absl::StrCat("skipped: ", results[i].target(),
                          " failed: ", results[i].error());
    }
  }
  return "";
}

}  // namespace dxbackup::scheduler
