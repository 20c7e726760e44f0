#include "scheduler/periodic/owed_post_hooks_task.h"

#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/runs/hook_jobs.h"
#include "scheduler/runs/run_ids.h"

namespace dxbackup::scheduler {
namespace {

constexpr absl::Duration kLookEvery = absl::Seconds(5);

}  // namespace

absl::StatusOr<std::vector<v1::BackupSet>> SetsOwingPostHooks(
    SetCatalog* sets, JobCatalog* jobs) {
  v1::ListSetsRequest running;
  running.set_status(v1::SET_RUNNING);
  absl::StatusOr<std::vector<v1::BackupSet>> found = sets->ListSets(running);
  if (!found.ok()) return found.status();
  std::vector<v1::BackupSet> owing;
  for (const v1::BackupSet& set : *found) {
    absl::StatusOr<std::vector<v1::Job>> listed = jobs->ListJobs(set.id());
    if (!listed.ok()) return listed.status();
    bool pre_started = false, post_done = true, post_any = false;
    for (const v1::Job& j : *listed) {
      if (j.kind() != v1::JOB_HOOK) continue;
      if (absl::StartsWith(j.target(), "pre-hook/")) {
        pre_started = pre_started || j.status() != v1::JOB_PENDING;
      } else if (absl::StartsWith(j.target(), "post-hook/")) {
        post_any = true;
        post_done = post_done && j.status() == v1::JOB_SUCCEEDED;
      }
    }
    if (pre_started && !(post_any && post_done)) owing.push_back(set);
  }
  return owing;
}

OwedPostHooksTask::OwedPostHooksTask(const Parts& parts,
                                     std::vector<v1::BackupSet> owed,
                                     absl::Time since, absl::Duration wait)
    : parts_(parts), deadline_(since + wait), owed_(std::move(owed)) {}

void OwedPostHooksTask::Run(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  for (auto it = owed_.begin(); it != owed_.end();) {
    const v1::Deployment* deployment =
        FindDeployment(*parts_.config, it->namespace_(), it->release());
    std::set<std::string> needed, connected;
    if (deployment != nullptr) {
      for (const v1::Hook& h : deployment->hooks()) {
        if (h.phase() == v1::Hook::POST) needed.insert(h.component());
      }
    }
    for (const v1::AgentInfo& a :
         parts_.registry->AgentsOf(it->namespace_(), it->release())) {
      if (a.connected()) connected.insert(a.component());
    }
    std::vector<std::string> missing;
    for (const std::string& c : needed) {
      if (connected.count(c) == 0) missing.push_back(c);
    }
    if (!missing.empty() && now < deadline_) {
      ++it;
      continue;
    }
    running_.emplace_back(
        [this, set = *it, missing] { RunHooks(set, missing); });
    it = owed_.erase(it);
  }
}

absl::Time OwedPostHooksTask::NextDue(absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  return owed_.empty() || stopped_ ? absl::InfiniteFuture() : now + kLookEvery;
}

void OwedPostHooksTask::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    threads.swap(running_);
  }
  for (std::thread& t : threads) t.join();
}

void OwedPostHooksTask::RunHooks(const v1::BackupSet& set,
                                 std::vector<std::string> missing) {
  const v1::Deployment* deployment =
      FindDeployment(*parts_.config, set.namespace_(), set.release());
  std::vector<HookJob> hooks = PlanHooks(
      deployment, parts_.registry->AgentsOf(set.namespace_(), set.release()),
      v1::Hook::POST);
  // Jobs of the set's own, after those it had: "<set>.owed-<n>".
  auto events = std::make_shared<RunEvents>();
  std::vector<HookJob> added;
  std::vector<std::string> said;
  for (HookJob& h : hooks) {
    h.job.set_id(JobId(set.id(), 0) + "-owed-" +
                 std::to_string(added.size() + 1));
    h.job.set_set_id(set.id());
    if (absl::Status s = parts_.board->Add(h.job, {}, events); !s.ok()) {
      said.push_back(absl::StrCat(h.job.target(), ": ", s.message()));
      continue;
    }
    added.push_back(std::move(h));
  }
  for (const v1::Job& j :
       RunHookJobs(parts_.registry, parts_.board, *parts_.time, added)) {
    said.push_back(j.status() == v1::JOB_SUCCEEDED
                       ? absl::StrCat(j.target(), " ok")
                       : absl::StrCat(j.target(), " failed: ", j.error()));
  }
  std::string note = absl::StrCat(
      "; the post-hooks it owed were run after the scheduler came back: ",
      said.empty() ? "none could run" : absl::StrJoin(said, ", "));
  if (!missing.empty()) {
    absl::StrAppend(&note, "; no agent of ", absl::StrJoin(missing, ", "),
                    " came back in time: start DX there by hand");
  }
  DXLOG(WARNING) << "set " << set.id() << note;
  absl::StatusOr<v1::BackupSet> now = parts_.sets->GetSet(set.id());
  if (!now.ok()) return;
  now->set_reason(now->reason() + note);
  if (absl::Status s = parts_.sets->UpdateSet(*now); !s.ok()) {
    DXLOG(ERROR) << s.message();
  }
}

}  // namespace dxbackup::scheduler
