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

// The pods whose pre-hooks began ("pre-hook/<name>@<pod>" jobs past
// pending), when the post-hooks did not all succeed; none otherwise.
absl::StatusOr<std::vector<std::string>> OwedPods(JobCatalog* jobs,
                                                  const std::string& set_id) {
  absl::StatusOr<std::vector<v1::Job>> listed = jobs->ListJobs(set_id);
  if (!listed.ok()) return listed.status();
  std::set<std::string> pods;
  bool post_done = true, post_any = false;
  for (const v1::Job& j : *listed) {
    if (j.kind() != v1::JOB_HOOK) continue;
    if (absl::StartsWith(j.target(), "pre-hook/")) {
      const size_t at = j.target().rfind('@');
      if (j.status() != v1::JOB_PENDING && at != std::string::npos) {
        pods.insert(j.target().substr(at + 1));
      }
    } else if (absl::StartsWith(j.target(), "post-hook/")) {
      post_any = true;
      post_done = post_done && j.status() == v1::JOB_SUCCEEDED;
    }
  }
  if (post_any && post_done) return std::vector<std::string>{};
  return std::vector<std::string>(pods.begin(), pods.end());
}

}  // namespace

absl::StatusOr<std::vector<OwedPostHooks>> SetsOwingPostHooks(
    SetCatalog* sets, JobCatalog* jobs, int64_t since_unix,
    const std::string& namespace_, const std::string& release) {
  std::vector<v1::BackupSet> candidates;
  v1::ListSetsRequest running;
  running.set_namespace_(namespace_);
  running.set_release(release);
  v1::ListSetsRequest stopped = running;
  running.set_status(v1::SET_RUNNING);
  stopped.set_status(v1::SET_FAILED);
  stopped.set_since_unix(since_unix);
  for (const v1::ListSetsRequest& filter : {running, stopped}) {
    absl::StatusOr<std::vector<v1::BackupSet>> found = sets->ListSets(filter);
    if (!found.ok()) return found.status();
    for (v1::BackupSet& set : *found) {
      const bool unpaid =
          set.status() == v1::SET_RUNNING ||
          (absl::StartsWith(set.reason(), kStoppedWhileRunning) &&
           !absl::StrContains(set.reason(), kOwedPostHooksRan));
      if (unpaid) candidates.push_back(std::move(set));
    }
  }
  std::vector<OwedPostHooks> owing;
  for (v1::BackupSet& set : candidates) {
    absl::StatusOr<std::vector<std::string>> pods = OwedPods(jobs, set.id());
    if (!pods.ok()) return pods.status();
    if (!pods->empty()) owing.push_back({std::move(set), *std::move(pods)});
  }
  return owing;
}

OwedPostHooksTask::OwedPostHooksTask(const Parts& parts,
                                     std::vector<OwedPostHooks> owed,
                                     absl::Time since, absl::Duration wait)
    : parts_(parts), wait_(wait) {
  Owe(std::move(owed), since);
}

void OwedPostHooksTask::Owe(std::vector<OwedPostHooks> more, absl::Time since) {
  std::lock_guard<std::mutex> lock(mu_);
  for (OwedPostHooks& owed : more) {
    owed_.push_back({std::move(owed), since + wait_});
  }
}

void OwedPostHooksTask::Run(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  for (auto it = owed_.begin(); it != owed_.end();) {
    const OwedPostHooks& owed = it->owed;
    std::set<std::string> connected;
    for (const v1::AgentInfo& a :
         parts_.registry->AgentsOf(owed.set.namespace_(), owed.set.release())) {
      if (a.connected()) connected.insert(a.pod());
    }
    std::vector<std::string> missing;
    for (const std::string& pod : owed.pods) {
      if (connected.count(pod) == 0) missing.push_back(pod);
    }
    if (!missing.empty() && now < it->deadline) {
      ++it;
      continue;
    }
    running_.emplace_back(
        [this, owed = owed, missing] { RunHooks(owed, missing); });
    it = owed_.erase(it);
  }
}

absl::Time OwedPostHooksTask::NextDue(absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  return owed_.empty() || stopped_ ? absl::InfiniteFuture() : now + kLookEvery;
}

void OwedPostHooksTask::Stop() {
  std::vector<std::thread> threads;
  std::vector<std::string> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    threads.swap(running_);
    jobs = jobs_;
  }
  // The hooks' waits end with their jobs (the board's FailAll comes only
  // after the loop stopped).
  for (const std::string& id : jobs) {
    parts_.board->Finish(id, absl::AbortedError("the scheduler is stopping"));
  }
  for (std::thread& t : threads) t.join();
}

void OwedPostHooksTask::RunHooks(const OwedPostHooks& owed,
                                 std::vector<std::string> missing) {
  const v1::BackupSet& set = owed.set;
  const std::set<std::string> pods(owed.pods.begin(), owed.pods.end());
  const v1::Deployment* deployment =
      FindDeployment(*parts_.config, set.namespace_(), set.release());
  // The post-hooks of the pods the pre-hooks stopped, and no others.
  std::vector<HookJob> hooks;
  for (HookJob& h :
       PlanHooks(deployment,
                 parts_.registry->AgentsOf(set.namespace_(), set.release()),
                 v1::Hook::POST)) {
    if (pods.count(h.pod) != 0) hooks.push_back(std::move(h));
  }
  // Jobs of the set's own, after those it had: "<set>.0-owed-<n>".
  auto events = std::make_shared<RunEvents>();
  std::vector<HookJob> added;
  std::vector<std::string> said;
  for (HookJob& h : hooks) {
    h.job.set_id(JobId(set.id(), 0) + "-owed-" +
                 std::to_string(added.size() + 1));
    h.job.set_set_id(set.id());
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) break;
      if (absl::Status s = parts_.board->Add(h.job, {}, events); !s.ok()) {
        said.push_back(absl::StrCat(h.job.target(), ": ", s.message()));
        continue;
      }
      jobs_.push_back(h.job.id());
    }
    added.push_back(std::move(h));
  }
  bool all_ran = true;
  for (const v1::Job& j :
       RunHookJobs(parts_.registry, parts_.board, *parts_.time, added)) {
    all_ran = all_ran && j.status() == v1::JOB_SUCCEEDED;
    said.push_back(j.status() == v1::JOB_SUCCEEDED
                       ? absl::StrCat(j.target(), " ok")
                       : absl::StrCat(j.target(), " failed: ", j.error()));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Stopped meanwhile: the debt stays unpaid, for the next start.
    if (stopped_ && !all_ran) return;
  }
  std::string note =
      absl::StrCat(kOwedPostHooksRan,
                   said.empty() ? "none could run" : absl::StrJoin(said, ", "));
  if (!missing.empty()) {
    absl::StrAppend(&note, "; the agents of ", absl::StrJoin(missing, ", "),
                    " did not come back in time: start DX there by hand");
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
