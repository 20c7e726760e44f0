#include "scheduler/runs/backup_set_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "common/resource_names.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/databases/agent_commands.h"
#include "scheduler/databases/database_dumps.h"
#include "scheduler/kubernetes/core_scale.h"
#include "scheduler/kubernetes/release_capture.h"
#include "scheduler/notify/notices.h"
#include "scheduler/postgres/pg_cluster.h"
#include "scheduler/runs/deployment_holds.h"
#include "scheduler/runs/quiesce_window.h"
#include "scheduler/runs/run_ids.h"

namespace dxbackup::scheduler {
namespace {
constexpr char kSchedulerWorker[] = "scheduler";
}  // namespace

BackupSetRunner::BackupSetRunner(const Parts& parts) : parts_(parts) {}

BackupSetRunner::~BackupSetRunner() {
  parts_.board->FailAll(
      absl::AbortedError("the scheduler stopped while the job ran"));
  threads_.JoinAll();
}

absl::StatusOr<StartedRun> BackupSetRunner::Start(
    const v1::BackupRequest& request, SetDoneFn on_done,
    const SetLimits* within) {
  if (absl::Status s = CheckBackupRequest(request); !s.ok()) return s;
  const std::string& ns = request.namespace_();
  const std::string& release = request.release();
  const std::string deployment = absl::StrCat(ns, "/", release);
  auto hold = HoldOn(*parts_.sets, ns, release);
  if (!hold.ok()) return hold.status();
  if (hold->has_value()) return RefuseHeld(**hold);
  // What the plan needs, read first: the set's id and start, the
  // deployment's earlier sets and its base's artifacts, its agents.
  // Until the set is recorded, its base must stay (see Parts).
  std::unique_lock<std::mutex> removal;
  if (parts_.set_removal != nullptr) {
    removal = std::unique_lock<std::mutex>(*parts_.set_removal);
  }
  BackupInputs in;
  in.config = parts_.config;
  in.request = request;
  in.set_id = NewRunId(*parts_.time);
  in.now_unix = parts_.time->NowUnix();
  v1::ListSetsRequest same;
  same.set_namespace_(ns);
  same.set_release(release);
  same.set_policy(request.policy());
  absl::StatusOr<std::vector<v1::BackupSet>> history =
      parts_.sets->ListSets(same);
  if (!history.ok()) return history.status();
  in.history = std::move(*history);
  const LevelPlan level = PlanBackupLevel(request, in.history);
  if (!level.base_set_id.empty()) {
    auto base = parts_.sets->ListArtifacts(level.base_set_id);
    if (!base.ok()) return base.status();
    in.base_artifacts = std::move(*base);
  }
  // What a full stored last time: the progress display's ETA.
  for (const v1::BackupSet& earlier : in.history) {
    if (earlier.status() != v1::SET_COMPLETE || earlier.level() != v1::FULL) {
      continue;
    }
    auto last = parts_.sets->ListArtifacts(earlier.id());
    if (last.ok()) in.last_full_artifacts = std::move(*last);
    break;
  }
  // An agent gone longer than agent_forget_after is no longer expected
  // (its pod is taken to be gone for good, as after a scale-down; its row
  // goes with ForgetGoneTask's next look). Only this deployment's agents
  // are read: with 10,000 agents connected, reading every one at each
  // set's start cost 0.3 CPU-s a set (agents-bench --sets).
  const int64_t forget_after = AgentForgetAfterSeconds(*parts_.config);
  in.agents = parts_.registry->KnownAgentsOf(ns, release, forget_after);
  // A `discover` entry's databases are the server's at the set's start.
  if (const v1::Deployment* d = FindDeployment(*parts_.config, ns, release)) {
    for (const v1::Database& db : d->databases()) {
      if (db.discover())
        in.discovered.emplace(db.name(), ListServerDatabases(db));
    }
  }
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in);
  if (!plan.ok()) return plan.status();
  const v1::BackupSet& set = plan->set;
  if (!plan->level.why.empty()) {
    DXLOG(INFO) << "set " << set.id() << " of " << deployment
                << " is a full: " << plan->level.why;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_deployments_.insert(deployment).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("a backup set of ", deployment, " is already running"));
    }
  }
  absl::Status s = within != nullptr
                       ? parts_.sets->CreateSetWithin(set, *within)
                       : parts_.sets->CreateSet(set);
  if (removal.owns_lock()) removal.unlock();
  auto events = std::make_shared<RunEvents>();
  for (const BackupMember& m : plan->members) {
    if (!s.ok()) break;
    s = parts_.board->Add(m.job, m.artifact, events);
  }
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    running_deployments_.erase(deployment);
    return s;
  }
  DXLOG(INFO) << "set " << set.id() << " of " << deployment << " started with "
              << plan->members.size() << " members";
  const std::string id = set.id();
  std::shared_ptr<common::Cancellation> cancel =
      parts_.cancels != nullptr ? parts_.cancels->Add(id)
                                : std::make_shared<common::Cancellation>();
  threads_.Start([this, plan = std::move(*plan), events, cancel,
                  on_done = std::move(on_done)]() mutable {
    const v1::BackupSet done = Run(std::move(plan), events, cancel);
    if (on_done) on_done(done);
  });
  return StartedRun{id, events};
}

void BackupSetRunner::CaptureOwn(const BackupMember& member,
                                 const v1::BackupSet& set) {
  JobBoard& board = *parts_.board;
  const std::string& job_id = member.job.id();
  board.MarkRunning(job_id, kSchedulerWorker);
  auto pending = parts_.keys->Begin(*parts_.store, member.artifact);
  if (!pending.ok()) {
    board.Finish(job_id, pending.status());
    return;
  }
  std::string log;
  DumpFacts facts;
  absl::Status s =
      member.objects != nullptr
          ? CaptureReleaseObjects(parts_.config->kubernetes_api(),
                                  *member.objects, set.namespace_(),
                                  set.release(), pending->get(), &log)
          : DumpAnyDatabase(*member.database, pending->get(), &log, &facts);
  if (s.ok()) s = (*pending)->Commit("");
  if (!s.ok()) {
    board.Finish(job_id, s, 0, 0, log);
    return;
  }
  v1::Artifact stored = member.artifact;
  RecordDumpFacts(facts, &stored);
  crypto::RecordStored(**pending, &stored);
  stored.set_created_unix(parts_.time->NowUnix());
  s = board.CompleteWithArtifact(job_id, stored);
  if (!s.ok()) {
    parts_.store->Remove(stored.path()).IgnoreError();
    board.Finish(job_id, s, 0, 0, log);
  }
}

void BackupSetRunner::Scale(const BackupMember& member,
                            const v1::BackupSet& set,
                            std::atomic<int>* replicas_before) {
  JobBoard& board = *parts_.board;
  const std::string& job_id = member.job.id();
  board.MarkRunning(job_id, kSchedulerWorker);
  const v1::KubernetesApi& api = parts_.config->kubernetes_api();
  if (member.scale == BackupMember::Scale::kDown) {
    // The scheduler stopping fails the job: the wait ends, and the
    // scale-up still puts the replicas back.
    // Recorded before the patch: a scheduler stopped before the scale-up
    // puts the replicas back when it starts (ScaleBackLeftDown).
    std::optional<SetCatalog::ScaledDown> earlier;
    if (auto left = parts_.sets->ScaledDowns(); left.ok()) {
      for (const SetCatalog::ScaledDown& scaled : *left) {
        if (scaled.namespace_ == set.namespace_() &&
            scaled.release == set.release()) {
          earlier = scaled;
        }
      }
    }
    CoreScaleDown down = ScaleCoreToOne(
        api, set.namespace_(), set.release(), *parts_.time, kScaleDownTimeout,
        [&board, &job_id] { return !board.IsRunning(job_id); },
        [this, &set](int replicas) {
          return parts_.sets->RecordScaledDown({set.namespace_(), set.release(),
                                                set.id(), replicas,
                                                parts_.time->NowUnix()});
        });
    if (earlier.has_value() && down.replicas_before <= 1) {
      // An earlier set left it down and could not scale it back: this set
      // puts back what that one took away, and owns the record now.
      down.replicas_before = earlier->replicas;
      parts_.sets
          ->RecordScaledDown({set.namespace_(), set.release(), set.id(),
                              earlier->replicas, earlier->since_unix})
          .IgnoreError();  // the row with those replicas stays either way
    }
    replicas_before->store(down.replicas_before);
    board.Finish(job_id, down.status, 0, 0,
                 absl::StrCat(CoreStatefulSet(set.release()), " had ",
                              down.replicas_before, " replicas"));
    return;
  }
  const int replicas = replicas_before->load();
  absl::Status s = replicas <= 1 ? absl::OkStatus()
                                 : ScaleCoreBack(api, set.namespace_(),
                                                 set.release(), replicas);
  if (s.ok()) {
    // Back (or never changed): nothing of this set's is left for a restart
    // to undo (another set's record stays).
    s = parts_.sets->ForgetScaledDown(set.namespace_(), set.release(),
                                      set.id());
  }
  board.Finish(job_id, s, 0, 0,
               replicas <= 1
                   ? std::string("nothing to scale back")
                   : absl::StrCat("scaled back to ", replicas, " replicas"));
}

void BackupSetRunner::NotifyEnd(const v1::BackupSet& set) {
  if (parts_.notices == nullptr) return;
  v1::ListSetsRequest same;
  same.set_namespace_(set.namespace_());
  same.set_release(set.release());
  const auto earlier = parts_.sets->ListSets(same);
  const v1::BackupSet* previous = nullptr;
  if (earlier.ok()) {
    for (const v1::BackupSet& s : *earlier) {
      if (s.id() == set.id() || s.started_unix() > set.started_unix() ||
          s.status() == v1::SET_RUNNING) {
        continue;
      }
      if (previous == nullptr || s.started_unix() > previous->started_unix() ||
          (s.started_unix() == previous->started_unix() &&
           s.id() > previous->id())) {
        previous = &s;
      }
    }
  }
  if (auto notice = SetEndNotice(set, previous)) {
    parts_.notices->Notify(*notice);
  }
}

v1::BackupSet BackupSetRunner::Run(
    BackupPlan plan, std::shared_ptr<RunEvents> events,
    std::shared_ptr<common::Cancellation> cancel) {
  v1::BackupSet set = plan.set;
  const std::vector<BackupMember>& members = plan.members;
  // The quiesce window: every pre-hook, then every capture at once, then
  // every post-hook.
  WindowWork work;
  work.cancel = cancel.get();
  std::vector<WindowJob>& captures = work.stages.emplace_back();
  // scale_to_one: the replicas the core StatefulSet had, which the
  // scale-up puts back.
  auto replicas_before = std::make_shared<std::atomic<int>>(0);
  for (const BackupMember& m : members) {
    if (m.hook != nullptr) {
      (m.hook->phase() == v1::Hook::POST ? work.post : work.pre)
          .push_back({m.job, m.hook, m.hook_pod});
      continue;
    }
    if (m.scale != BackupMember::Scale::kNone) {
      WindowJob job;
      job.job_id = m.job.id();
      job.run = [this, &m, &plan, replicas_before] {
        Scale(m, plan.set, replicas_before.get());
      };
      (m.scale == BackupMember::Scale::kDown ? work.scale_down : work.scale_up)
          .push_back(std::move(job));
      continue;
    }
    WindowJob job;
    job.job_id = m.job.id();
    job.fail = m.offline;
    if (!m.job.agent_id().empty()) {
      // A volume, or a database whose command runs in an agent's pod.
      job.agent_id = m.job.agent_id();
      job.command = m.command;
      job.disconnected = absl::StrCat("agent ", m.job.agent_id(),
                                      " disconnected before the job started");
    } else {
      job.run = [this, &m, &plan] { CaptureOwn(m, plan.set); };
    }
    // The Kubernetes objects need DX running no less than stopped, and a
    // command may need it up (xmlaccess): both before the window, so that
    // a slow API server does not hold DX down either.
    const bool before = m.objects != nullptr ||
                        (m.database != nullptr && RunsWhileUp(*m.database));
    (before ? work.before : captures).push_back(std::move(job));
  }
  WindowResult window =
      QuiesceWindow({parts_.registry, parts_.board, parts_.time}).Run(work);
  // Nothing is left to stop: `cancel` says so from now on.
  if (parts_.cancels != nullptr) parts_.cancels->Remove(set.id());
  std::vector<v1::Job>& jobs = window.jobs;
  if (replicas_before->load() > 1) {
    set.add_warnings(absl::StrCat(
        "scale_to_one: ", CoreStatefulSet(set.release()), " was scaled from ",
        replicas_before->load(), " replicas to one for the window"));
  }
  if (!work.pre.empty() || !work.post.empty()) {
    set.set_quiesce_seconds(window.seconds);
    const std::string warning = QuiesceWarning(window.seconds, *parts_.config);
    if (!warning.empty()) set.add_warnings(warning);
  }
  // Hooks that may fail without failing the set leave a warning instead.
  std::map<std::string, const v1::Hook*> hook_of;
  for (const BackupMember& m : members) {
    if (m.hook != nullptr) hook_of[m.job.id()] = m.hook;
  }
  for (auto it = jobs.begin(); it != jobs.end();) {
    auto hook = hook_of.find(it->id());
    if (hook != hook_of.end() && it->status() != v1::JOB_SUCCEEDED &&
        hook->second->on_failure() == v1::Hook::CONTINUE) {
      set.add_warnings(absl::StrCat(it->target(), " failed: ", it->error()));
      it = jobs.erase(it);
    } else {
      ++it;
    }
  }

  // Cancelled: the reason says by whom, once, before what failed besides.
  std::vector<std::string> failures;
  const bool cancelled = window.cancelled && cancel->cancelled();
  if (cancelled) failures.push_back(cancel->why());
  for (std::string& failure : FailedJobReasons(jobs, /*but_cancelled=*/
                                               cancelled)) {
    failures.push_back(std::move(failure));
  }
  auto artifacts = parts_.sets->ListArtifacts(set.id());
  std::set<std::string> stored;  // targets with an artifact row
  if (artifacts.ok()) {
    for (const v1::Artifact& a : *artifacts) {
      stored.insert(a.target());
      set.set_bytes(set.bytes() + a.bytes());
      if (!a.fix_level().empty()) set.set_fix_level(a.fix_level());
    }
  } else {
    failures.push_back(
        absl::StrCat("the catalog cannot list the set's ",
                     "artifacts: ", artifacts.status().message()));
  }
  // Complete means stored: a capture counts by its artifact, never by a
  // success report alone.
  std::set<std::string> failed_jobs;
  for (const v1::Job& j : jobs) {
    if (j.status() != v1::JOB_SUCCEEDED) failed_jobs.insert(j.id());
  }
  for (const BackupMember& m : members) {
    if (m.hook == nullptr && m.scale == BackupMember::Scale::kNone &&
        stored.count(m.artifact.target()) == 0 &&
        failed_jobs.count(m.job.id()) == 0) {
      failures.push_back(
          absl::StrCat(m.artifact.target(), ": no artifact was stored"));
    }
  }
  set.set_status(failures.empty() ? v1::SET_COMPLETE : v1::SET_FAILED);
  set.set_reason(absl::StrJoin(failures, "; "));
  set.set_finished_unix(parts_.time->NowUnix());
  absl::Status s = parts_.sets->UpdateSet(set);
  if (!s.ok()) DXLOG(ERROR) << s.message();
  if (parts_.metrics != nullptr) parts_.metrics->SetEnded(set);
  NotifyEnd(set);
  DXLOG(INFO) << "set " << set.id() << " of " << set.namespace_() << "/"
              << set.release() << " ended " << v1::SetStatus_Name(set.status())
              << (failures.empty() ? "" : ": " + set.reason());
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_deployments_.erase(
        absl::StrCat(set.namespace_(), "/", set.release()));
  }
  events->Finish(set, failures.empty(),
                 failures.empty() ? absl::StrCat("set ", set.id(), " complete")
                                  : absl::StrCat("set ", set.id(),
                                                 " failed: ", set.reason()));
  return set;
}

}  // namespace dxbackup::scheduler
