#include "scheduler/runs/backup_set_runner.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "common/resource_names.h"
#include "scheduler/runs/hook_jobs.h"
#include "scheduler/jobs/job_dispatch.h"
#include "scheduler/postgres/pg_connection.h"
#include "scheduler/postgres/pg_dump_runner.h"
#include "scheduler/runs/run_ids.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/runs/set_levels.h"

namespace dxbackup::scheduler {
namespace {
constexpr char kSchedulerWorker[] = "scheduler";
constexpr int kDefaultQuiesceLimitSeconds = 150;
}  // namespace

BackupSetRunner::BackupSetRunner(const Parts& parts) : parts_(parts) {}

BackupSetRunner::~BackupSetRunner() {
  parts_.board->FailAll(
      absl::AbortedError("the scheduler stopped while the job ran"));
  threads_.JoinAll();
}

absl::StatusOr<StartedRun> BackupSetRunner::Start(
    const v1::BackupRequest& request, SetDoneFn on_done) {
  const std::string& ns = request.namespace_();
  const std::string& release = request.release();
  if (ns.empty() || release.empty()) {
    return absl::InvalidArgumentError(
        "a backup needs a namespace and a release");
  }
  for (auto [field, value] :
       {std::pair{"namespace", &ns}, {"release", &release}}) {
    if (absl::Status s = common::CheckDnsLabel(field, *value); !s.ok()) {
      return s;  // it would name the set's directory in the store
    }
  }
  const std::string deployment = absl::StrCat(ns, "/", release);
  v1::CaptureOptions options = request.options();
  if (options.compression() == v1::COMPRESSION_UNSPECIFIED) {
    options.set_compression(v1::COMPRESSION_ZSTD);
  }

  v1::BackupSet set;
  set.set_id(NewRunId(*parts_.time));
  set.set_namespace_(ns);
  set.set_release(release);
  set.set_status(v1::SET_RUNNING);
  set.set_started_unix(parts_.time->NowUnix());
  set.set_policy(request.policy());
  // Full, or only what changed since a base of the same policy's sets.
  v1::ListSetsRequest same;
  same.set_namespace_(ns);
  same.set_release(release);
  same.set_policy(request.policy());
  absl::StatusOr<std::vector<v1::BackupSet>> history =
      parts_.sets->ListSets(same);
  if (!history.ok()) return history.status();
  history->erase(std::remove_if(history->begin(), history->end(),
                                [&](const v1::BackupSet& s) {
                                  return s.policy() != request.policy();
                                }),
                 history->end());
  const LevelPlan plan = PlanLevel(options, *history);
  set.set_level(plan.level);
  set.set_base_set_id(plan.base_set_id);
  if (!plan.why.empty()) {
    DXLOG(INFO) << "set " << set.id() << " of " << deployment
                << " is a full: " << plan.why;
  }
  std::set<std::string> base_targets;  // volumes the base holds
  if (!plan.base_set_id.empty()) {
    auto base = parts_.sets->ListArtifacts(plan.base_set_id);
    if (!base.ok()) return base.status();
    for (const v1::Artifact& a : *base) {
      if (a.kind() == v1::ARTIFACT_VOLUME_TAR) base_targets.insert(a.target());
    }
  }

  std::vector<Member> members;
  auto add_member = [&](v1::JobKind kind, const std::string& target,
                        const std::string& file, const std::string& source) {
    Member m;
    m.job.set_id(JobId(set.id(), static_cast<int>(members.size()) + 1));
    m.job.set_set_id(set.id());
    m.job.set_kind(kind);
    m.job.set_target(target);
    m.artifact.set_set_id(set.id());
    m.artifact.set_target(target);
    m.artifact.set_path(
        ArtifactStore::RelativePath(ns, release, set.id(), file));
    m.artifact.set_source(source);
    members.push_back(m);
    return &members.back();
  };
  // Every agent of the deployment that is connected, or was lately: an
  // offline agent's volumes are members that fail at once, saying so.
  // An agent gone longer than agent_forget_after is no longer expected
  // (its pod is taken to be gone for good, as after a scale-down).
  const int64_t forget_after = AgentForgetAfterSeconds(*parts_.config);
  parts_.registry->ForgetGone(forget_after);
  std::vector<v1::AgentInfo> agents;
  for (const v1::AgentInfo& agent :
       parts_.registry->KnownAgentsOf(ns, release, forget_after)) {
    if (!request.component().empty() &&
        agent.component() != request.component()) {
      continue;
    }
    bool labelled = true;
    for (const auto& [key, value] : request.agent_labels()) {
      auto it = agent.labels().find(key);
      labelled = labelled && it != agent.labels().end() && it->second == value;
    }
    if (labelled) agents.push_back(agent);
  }
  std::map<std::string, int> replicas;  // agents per component
  for (const v1::AgentInfo& agent : agents) ++replicas[agent.component()];
  for (const v1::AgentInfo& agent : agents) {
    // "core/profile"; with several core pods, "dx-core-0/profile" and so on.
    const std::string owner =
        replicas[agent.component()] > 1 ? agent.pod() : agent.component();
    for (const v1::Volume& volume : agent.volumes()) {
      Member* m = add_member(
          v1::JOB_VOLUME_BACKUP, VolumeTarget(owner, volume.name()),
          VolumeFileName(owner, volume.name(), options.compression()),
          absl::StrCat(agent.pod(), ":", volume.path(),
                       volume.resolved_path().empty()
                           ? ""
                           : " -> " + volume.resolved_path()));
      m->job.set_agent_id(agent.id());
      m->volume = volume.name();
      m->artifact.set_kind(v1::ARTIFACT_VOLUME_TAR);
      m->artifact.set_compression(options.compression());
      m->artifact.set_fix_level(volume.fix_level());
      if (base_targets.count(m->artifact.target()) != 0) {
        m->artifact.set_base_set_id(plan.base_set_id);
      }
      if (!agent.connected()) {
        m->offline = absl::StrCat(
            "agent ", agent.id(), " is offline (last seen ",
            absl::FormatTime("%Y-%m-%d %H:%M:%SZ",
                             absl::FromUnixSeconds(agent.last_seen_unix()),
                             absl::UTCTimeZone()),
            ")");
      }
    }
  }
  if (const v1::Deployment* d = FindDeployment(*parts_.config, ns, release)) {
    // Each hook runs on every connected agent of its component.
    for (v1::Hook::Phase phase : {v1::Hook::PRE, v1::Hook::POST}) {
      for (HookJob& h : PlanHooks(d, agents, phase)) {
        Member* m = add_member(v1::JOB_HOOK, h.job.target(), "", "");
        m->job.set_agent_id(h.job.agent_id());
        m->hook = h.hook;
      }
    }
    for (const v1::Database& db : d->databases()) {
      Member* m = add_member(v1::JOB_DATABASE_BACKUP, DatabaseTarget(db.name()),
                             DatabaseFileName(db.name()), DescribeDatabase(db));
      m->database = &db;
      m->artifact.set_kind(v1::ARTIFACT_PG_DUMP);
    }
  }
  if (members.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "nothing to back up for ", deployment,
        ": no agent of it is connected and the config lists no database for "
        "it (see `dxbackup agents`)"));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_deployments_.insert(deployment).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("a backup set of ", deployment, " is already running"));
    }
  }
  absl::Status s = parts_.sets->CreateSet(set);
  auto events = std::make_shared<RunEvents>();
  for (const Member& m : members) {
    if (!s.ok()) break;
    s = parts_.board->Add(m.job, m.artifact, events);
  }
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    running_deployments_.erase(deployment);
    return s;
  }
  DXLOG(INFO) << "set " << set.id() << " of " << deployment << " started with "
              << members.size() << " members";
  threads_.Start([this, set, members = std::move(members), options, events,
                  on_done = std::move(on_done)]() mutable {
    const v1::BackupSet done = Run(set, std::move(members), options, events);
    if (on_done) on_done(done);
  });
  return StartedRun{set.id(), events};
}

void BackupSetRunner::DumpDatabase(const Member& member) {
  JobBoard& board = *parts_.board;
  const std::string& job_id = member.job.id();
  board.MarkRunning(job_id, kSchedulerWorker);
  auto pending = parts_.store->Begin(member.artifact.path());
  if (!pending.ok()) {
    board.Finish(job_id, pending.status());
    return;
  }
  std::string log;
  absl::Status s =
      scheduler::DumpDatabase(*member.database, pending->get(), &log);
  if (s.ok()) s = (*pending)->Commit("");
  if (!s.ok()) {
    board.Finish(job_id, s, 0, 0, log);
    return;
  }
  v1::Artifact stored = member.artifact;
  stored.set_bytes((*pending)->bytes());
  stored.set_sha256((*pending)->sha256());
  stored.set_created_unix(parts_.time->NowUnix());
  s = board.CompleteWithArtifact(job_id, stored);
  if (!s.ok()) {
    parts_.store->Remove(stored.path()).IgnoreError();
    board.Finish(job_id, s, 0, 0, log);
  }
}

std::vector<v1::Job> BackupSetRunner::RunCaptures(
    const std::vector<const Member*>& captures,
    const v1::CaptureOptions& options, const std::string& skip_reason) {
  std::vector<std::thread> dumps;
  std::vector<std::string> job_ids;
  for (const Member* mp : captures) {
    const Member& m = *mp;
    job_ids.push_back(m.job.id());
    if (!skip_reason.empty() || !m.offline.empty()) {
      parts_.board->Finish(m.job.id(),
                           skip_reason.empty()
                               ? absl::UnavailableError(m.offline)
                               : absl::FailedPreconditionError(skip_reason));
      continue;
    }
    if (m.database != nullptr) {
      dumps.emplace_back(&BackupSetRunner::DumpDatabase, this, std::cref(m));
      continue;
    }
    v1::SchedulerMessage command;
    command.mutable_backup()->set_job_id(m.job.id());
    command.mutable_backup()->set_volume(m.volume);
    *command.mutable_backup()->mutable_options() = options;
    command.mutable_backup()->set_incremental(
        !m.artifact.base_set_id().empty());
    if (!DispatchToAgent(parts_.registry, parts_.board, m.job.id(),
                         m.job.agent_id(), command)) {
      parts_.board->Finish(
          m.job.id(),
          absl::UnavailableError(absl::StrCat(
              "agent ", m.job.agent_id(),
              " disconnected before the job started")));
    }
  }
  for (std::thread& t : dumps) t.join();
  return parts_.board->WaitAndRemove(job_ids);
}

v1::BackupSet BackupSetRunner::Run(v1::BackupSet set,
                                   std::vector<Member> members,
                                   v1::CaptureOptions options,
                                   std::shared_ptr<RunEvents> events) {
  std::vector<HookJob> pre, post;
  std::vector<const Member*> captures;
  for (const Member& m : members) {
    if (m.hook == nullptr) {
      captures.push_back(&m);
    } else {
      (m.hook->phase() == v1::Hook::POST ? post : pre)
          .push_back({m.job, m.hook});
    }
  }
  // The quiesce window: every pre-hook, then every capture, then every
  // post-hook, which runs whatever happened before.
  const absl::Time window_start = absl::FromChrono(parts_.time->Now());
  std::vector<v1::Job> jobs =
      RunHookJobs(parts_.registry, parts_.board, *parts_.time, pre);
  const std::string blocked = PreHookBlock(pre, jobs);
  std::vector<v1::Job> captured = RunCaptures(captures, options, blocked);
  jobs.insert(jobs.end(), captured.begin(), captured.end());
  // Every pre-hook was run (or tried), so every post-hook runs: after
  // failed captures and failed pre-hooks too.
  std::vector<v1::Job> thawed =
      RunHookJobs(parts_.registry, parts_.board, *parts_.time, post);
  jobs.insert(jobs.end(), thawed.begin(), thawed.end());
  if (!pre.empty() || !post.empty()) {
    const int64_t window = absl::ToInt64Seconds(
        absl::FromChrono(parts_.time->Now()) - window_start);
    set.set_quiesce_seconds(window);
    const int limit = parts_.config->quiesce_limit_seconds() > 0
                          ? parts_.config->quiesce_limit_seconds()
                          : kDefaultQuiesceLimitSeconds;
    if (window * 10 > limit * 8) {
      set.add_warnings(absl::StrCat(
          "the quiesce window took ", window, " s, near the ", limit,
          " s limit: DX's liveness probe restarts a stopped core container "
          "after about 3 minutes; capture less or faster"));
    }
  }
  // Hooks that may fail without failing the set leave a warning instead.
  std::map<std::string, const v1::Hook*> hook_of;
  for (const Member& m : members) {
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

  std::vector<std::string> failures = FailedJobReasons(jobs);
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
  for (const Member& m : members) {
    if (m.hook == nullptr && stored.count(m.artifact.target()) == 0 &&
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
