#include "scheduler/runs/quiesce_window.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "scheduler/jobs/job_dispatch.h"

namespace dxbackup::scheduler {
namespace {
constexpr int kDefaultQuiesceLimitSeconds = 150;
}  // namespace

std::string QuiesceWarning(int64_t seconds, const v1::SchedulerConfig& config) {
  const int limit = config.quiesce_limit_seconds() > 0
                        ? config.quiesce_limit_seconds()
                        : kDefaultQuiesceLimitSeconds;
  if (seconds * 10 <= static_cast<int64_t>(limit) * 8) return "";
  return absl::StrCat(
      "the quiesce window took ", seconds, " s, near the ", limit,
      " s limit: DX's liveness probe restarts a stopped core container "
      "after about 3 minutes; capture less or faster");
}

std::vector<v1::Job> QuiesceWindow::RunStage(
    const std::vector<WindowJob>& stage, const std::string& skip,
    int own_at_once, common::Cancellation* cancel) {
  std::vector<const WindowJob*> own_jobs;
  std::vector<std::string> ids;
  for (const WindowJob& job : stage) ids.push_back(job.job_id);
  // Cancelled, every job of the stage not ended yet fails with the reason
  // (one the cancel reached before it started is never started).
  uint64_t on_cancel = 0;
  if (cancel != nullptr) {
    on_cancel = cancel->OnCancel([this, &ids](const std::string& why) {
      for (const std::string& id : ids) {
        parts_.board->Finish(id, absl::CancelledError(why));
      }
    });
  }
  for (const WindowJob& job : stage) {
    if (!parts_.board->IsRunning(job.job_id)) continue;  // cancelled
    if (!skip.empty() || !job.fail.empty()) {
      // An offline agent's job: UNAVAILABLE; skipped after a pre-hook
      // failed: FAILED_PRECONDITION.
      parts_.board->Finish(job.job_id,
                           skip.empty() ? absl::UnavailableError(job.fail)
                                        : absl::FailedPreconditionError(skip));
      continue;
    }
    if (job.run) {
      own_jobs.push_back(&job);
      continue;
    }
    if (!DispatchToAgent(parts_.registry, parts_.board, job.job_id,
                         job.agent_id, job.command)) {
      parts_.board->Finish(job.job_id,
                           absl::UnavailableError(job.disconnected));
    }
  }
  // The scheduler's own jobs, `own_at_once` at a time: each takes the
  // next job not yet started.
  const size_t workers =
      own_at_once > 0
          ? std::min(own_jobs.size(), static_cast<size_t>(own_at_once))
          : own_jobs.size();
  std::atomic<size_t> next{0};
  std::vector<std::thread> own;
  for (size_t w = 0; w < workers; ++w) {
    own.emplace_back([this, &own_jobs, &next] {
      for (size_t i; (i = next++) < own_jobs.size();) {
        // The commands the job starts die with it (a pg_dump, when the
        // set is cancelled or the job times out).
        std::shared_ptr<common::Cancellation> job_cancel =
            parts_.board->CancellationOf(own_jobs[i]->job_id);
        // Ended while it waited its turn (cancelled): never started, so
        // that nothing of it touches a database or the cluster.
        if (job_cancel == nullptr || job_cancel->cancelled() ||
            !parts_.board->IsRunning(own_jobs[i]->job_id)) {
          continue;
        }
        common::CancellationScope scope(job_cancel.get());
        own_jobs[i]->run();
      }
    });
  }
  for (std::thread& t : own) t.join();
  std::vector<v1::Job> ended = parts_.board->WaitAndRemove(ids);
  if (cancel != nullptr) cancel->Remove(on_cancel);
  return ended;
}

std::vector<v1::Job> QuiesceWindow::FailHooks(const std::vector<HookJob>& hooks,
                                              const absl::Status& why) {
  std::vector<std::string> ids;
  for (const HookJob& h : hooks) {
    parts_.board->Finish(h.job.id(), why);
    ids.push_back(h.job.id());
  }
  return parts_.board->WaitAndRemove(ids);
}

WindowResult QuiesceWindow::Run(const WindowWork& work) {
  WindowResult result;
  auto add = [&result](std::vector<v1::Job> jobs) {
    for (v1::Job& j : jobs) result.jobs.push_back(std::move(j));
  };
  if (!work.before.empty()) {
    add(RunStage(work.before, "", work.own_jobs_at_once, work.cancel));
  }
  // A scale-down that failed leaves DX as it is: nothing stopped, nothing
  // captured or restored. So does a cancel before the pre-hooks.
  std::string unscaled;
  absl::Status not_stopped;  // why no hook runs: `unscaled`, or the cancel
  for (v1::Job& j :
       RunStage(work.scale_down, "", work.own_jobs_at_once, work.cancel)) {
    if (unscaled.empty() && j.status() != v1::JOB_SUCCEEDED) {
      unscaled = absl::StrCat("skipped: ", j.target(), " failed: ", j.error());
      not_stopped = absl::FailedPreconditionError(unscaled);
    }
    result.jobs.push_back(std::move(j));
  }
  if (unscaled.empty() && work.cancel != nullptr && work.cancel->cancelled()) {
    unscaled = absl::StrCat("not run: ", work.cancel->why());
    not_stopped = absl::CancelledError(unscaled);
  }
  const absl::Time start = absl::FromChrono(parts_.time->Now());
  std::vector<v1::Job> pre =
      unscaled.empty()
          ? RunHookJobs(parts_.registry, parts_.board, *parts_.time, work.pre)
          : FailHooks(work.pre, not_stopped);
  const std::string blocked =
      unscaled.empty() ? PreHookBlock(work.pre, pre) : unscaled;
  add(std::move(pre));
  std::string skip = blocked;
  for (const std::vector<WindowJob>& stage : work.stages) {
    std::string failed;  // the first of the stage's jobs that failed
    for (v1::Job& j :
         RunStage(stage, skip, work.own_jobs_at_once, work.cancel)) {
      if (failed.empty() && j.status() != v1::JOB_SUCCEEDED) {
        failed = j.target();
      }
      result.jobs.push_back(std::move(j));
    }
    if (skip.empty() && !failed.empty() && work.stages_need_previous) {
      skip = absl::StrCat("not run: ", failed, " failed before it");
    }
  }
  if (!unscaled.empty()) {
    add(FailHooks(work.post, not_stopped));  // nothing was stopped
  } else if (!work.hold_post.empty() && blocked.empty() &&
             (work.cancel == nullptr || !work.cancel->cancelled())) {
    // (Cancelled, the work did not end as the hold expects: the
    // post-hooks run, and DX comes back up.)
    add(FailHooks(work.post, absl::FailedPreconditionError(work.hold_post)));
    result.post_held = true;
  } else {
    // Every pre-hook was run (or tried), so every post-hook runs: after
    // failed work and failed pre-hooks too.
    std::vector<v1::Job> post =
        RunHookJobs(parts_.registry, parts_.board, *parts_.time, work.post);
    // What needs DX up again would find it down after a post-hook that may
    // not fail did (as PreHookBlock reads pre-hooks).
    const std::string down = PreHookBlock(work.post, post);
    if (skip.empty() && !down.empty()) {
      skip = absl::StrCat("not run: ", down.substr(down.find(' ') + 1));
    }
    add(std::move(post));
  }
  result.seconds =
      absl::ToInt64Seconds(absl::FromChrono(parts_.time->Now()) - start);
  if (!work.scale_up.empty()) {
    add(RunStage(work.scale_up, "", work.own_jobs_at_once, nullptr));
  }
  if (!work.after.empty()) {
    const std::string after_skip =
        !work.hold_post.empty() && blocked.empty() ? work.hold_post : skip;
    add(RunStage(work.after, after_skip, work.own_jobs_at_once, work.cancel));
  }
  for (const v1::Job& j : result.jobs) {
    result.cancelled = result.cancelled || j.error_code() == "CANCELLED";
  }
  return result;
}

}  // namespace dxbackup::scheduler
