#include "scheduler/replicas/deployment_takeover.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/runs/deployment_holds.h"
#include "scheduler/runs/scale_back.h"
#include "scheduler/store/store_reconcile.h"

namespace dxbackup::scheduler {
namespace {

// Step 2: each set of the deployment still running fails with `reason`,
// with its unfinished jobs. Returns how many.
absl::StatusOr<int> FailLeftRunning(SetCatalog* sets, JobCatalog* jobs,
                                    const std::string& namespace_,
                                    const std::string& release,
                                    const std::string& reason, int64_t now) {
  v1::ListSetsRequest running;
  running.set_namespace_(namespace_);
  running.set_release(release);
  running.set_status(v1::SET_RUNNING);
  absl::StatusOr<std::vector<v1::BackupSet>> left = sets->ListSets(running);
  if (!left.ok()) return left.status();
  for (v1::BackupSet& set : *left) {
    absl::StatusOr<std::vector<v1::Job>> set_jobs = jobs->ListJobs(set.id());
    if (!set_jobs.ok()) return set_jobs.status();
    for (v1::Job& job : *set_jobs) {
      if (job.status() != v1::JOB_PENDING && job.status() != v1::JOB_RUNNING) {
        continue;
      }
      job.set_status(v1::JOB_FAILED);
      job.set_error(reason);
      job.set_error_code("ABORTED");
      job.set_finished_unix(now);
      if (absl::Status s = jobs->UpsertJob(job); !s.ok()) return s;
    }
    set.set_status(v1::SET_FAILED);
    set.set_reason(reason);
    set.set_finished_unix(now);
    if (absl::Status s = sets->UpdateSet(set); !s.ok()) return s;
  }
  return static_cast<int>(left->size());
}

}  // namespace

absl::Status TakeOverDeployment(const TakeoverParts& parts,
                                const std::string& namespace_,
                                const std::string& release,
                                const std::string& previous) {
  const std::string deployment = namespace_ + "/" + release;
  const int64_t now = parts.clock->NowUnix();
  auto owed = SetsOwingPostHooks(parts.sets, parts.jobs,
                                 now - kOwedPostHooksWithinSeconds, namespace_,
                                 release);
  if (!owed.ok()) return owed.status();
  // The reason starts as a restarted scheduler's does, so that a debt
  // still unpaid is found again by whoever runs next.
  const std::string reason =
      previous.empty() ? std::string(kStoppedWhileRunning)
                       : absl::StrCat(kStoppedWhileRunning,
                                      " (scheduler replica ", previous, ")");
  auto failed =
      FailLeftRunning(parts.sets, parts.jobs, namespace_, release, reason, now);
  if (!failed.ok()) return failed.status();
  if (*failed > 0) {
    DXLOG(WARNING) << *failed << " set(s) of " << deployment
                   << " were left running by "
                   << (previous.empty() ? std::string("an earlier scheduler")
                                        : "scheduler replica " + previous)
                   << "; marked failed";
  }
  auto stopped = StopRunningHolds(*parts.sets, namespace_, release);
  if (!stopped.ok()) return stopped.status();
  if (*stopped > 0) {
    DXLOG(WARNING) << "a restore into " << deployment
                   << " was left running; the deployment stays held "
                      "(`dxbackup show SET`)";
  }
  if (absl::Status s = ScaleBackLeftDown(*parts.sets, *parts.kubernetes_api,
                                         namespace_, release);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = parts.finish_removals(namespace_, release); !s.ok()) {
    return s;
  }
  auto known = parts.sets->AllArtifactPaths();
  if (!known.ok()) return known.status();
  auto reconciled = Reconcile(
      *parts.store, *known,
      [&parts](const std::string& id) { return parts.sets->GetSet(id).ok(); },
      namespace_ + "/" + release + "/");
  if (!reconciled.ok()) return reconciled.status();
  for (const std::string& path : reconciled->removed) {
    DXLOG(WARNING) << "removed " << path
                   << " from the store: what an interrupted write of "
                   << deployment << " left";
  }
  if (parts.copy_stores != nullptr) {
    for (const auto& [policy, bucket] : *parts.copy_stores) {
      auto aborted = bucket->RemoveUnfinished(namespace_ + "/" + release + "/");
      if (!aborted.ok()) {
        return absl::Status(aborted.status().code(),
                            absl::StrCat("policy ", policy, "'s copy_to: ",
                                         aborted.status().message()));
      }
      for (const std::string& key : *aborted) {
        DXLOG(WARNING) << "policy " << policy
                       << "'s copy bucket: aborted the unfinished upload of "
                       << key;
      }
    }
  }
  if (!owed->empty()) parts.owe(*std::move(owed));
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
