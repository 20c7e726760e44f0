#include "scheduler/runs/restore_runner.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/resource_names.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/jobs/job_dispatch.h"
#include "scheduler/postgres/pg_dump_runner.h"
#include "scheduler/runs/hook_jobs.h"
#include "scheduler/runs/run_ids.h"
#include "scheduler/sets/artifact_chain.h"
#include "scheduler/sets/set_verifier.h"

namespace dxbackup::scheduler {

namespace {

// The connected agent to restore a volume target through: `owner` is the
// target's first part, a component ("core") or, for a component with
// several pods, a pod name. The pod that made the backup (`source` is
// "pod:path") is preferred. "" when none fits.
std::string PickAgent(const std::vector<v1::AgentInfo>& agents,
                      const std::string& owner, const std::string& volume,
                      const std::string& source) {
  const std::string source_pod = source.substr(0, source.find(':'));
  std::string fallback;
  for (const v1::AgentInfo& agent : agents) {
    if (agent.component() != owner && agent.pod() != owner) continue;
    for (const v1::Volume& v : agent.volumes()) {
      if (v.name() != volume) continue;
      if (agent.pod() == source_pod) return agent.id();
      if (fallback.empty()) fallback = agent.id();
    }
  }
  return fallback;
}

// The fix level the agent reports for one of its volumes now, or "".
std::string CurrentFixLevel(const std::vector<v1::AgentInfo>& agents,
                            const std::string& agent_id,
                            const std::string& volume) {
  for (const v1::AgentInfo& agent : agents) {
    if (agent.id() != agent_id) continue;
    for (const v1::Volume& v : agent.volumes()) {
      if (v.name() == volume) return v.fix_level();
    }
  }
  return "";
}

}  // namespace

RestoreRunner::RestoreRunner(const Parts& parts) : parts_(parts) {}

RestoreRunner::~RestoreRunner() {
  parts_.board->FailAll(
      absl::AbortedError("the scheduler stopped while the restore ran"));
  threads_.JoinAll();
}

absl::StatusOr<StartedRun> RestoreRunner::Start(
    const v1::RestoreRequest& request) {
  // A name only: it reaches pg_restore, and the configured password goes
  // wherever it points.
  if (!request.database_to().empty()) {
    absl::Status named =
        common::CheckDatabaseName("--database-to", request.database_to());
    if (!named.ok()) return named;
  }
  absl::StatusOr<v1::BackupSet> set = parts_.sets->GetSet(request.set_id());
  if (!set.ok()) return set.status();
  if (set->status() != v1::SET_COMPLETE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "set ", set->id(), " is ", v1::SetStatus_Name(set->status()),
        ", not complete; restore from a complete set (`dxbackup sets`)"));
  }
  if (set->verification().result() == v1::Verification::CORRUPT) {
    return absl::FailedPreconditionError(
        absl::StrCat("set ", set->id(), " failed verification (",
                     set->verification().detail(), "); restore another set"));
  }
  auto artifacts = parts_.sets->ListArtifacts(set->id());
  if (!artifacts.ok()) return artifacts.status();
  // Where the set goes: its own deployment, or, only when asked for
  // explicitly, another one (a clone).
  const std::string ns = request.to_namespace().empty()
                             ? set->namespace_()
                             : request.to_namespace();
  const std::string release =
      request.to_release().empty() ? set->release() : request.to_release();
  if ((ns != set->namespace_() || release != set->release()) &&
      !request.clone()) {
    return absl::FailedPreconditionError(
        absl::StrCat("set ", set->id(), " is of ", set->namespace_(), "/",
                     set->release(), "; restoring it into ", ns, "/", release,
                     " makes a clone: add --clone if that is what you mean"));
  }
  const v1::Deployment* deployment =
      FindDeployment(*parts_.config, ns, release);
  std::vector<v1::AgentInfo> agents = parts_.registry->AgentsOf(ns, release);

  const std::string run_id = absl::StrCat("restore-", NewRunId(*parts_.time));
  std::vector<Step> steps;
  std::vector<std::string> problems;
  int databases = 0;
  for (const v1::Artifact& artifact : *artifacts) {
    if (!request.target().empty() && artifact.target() != request.target()) {
      continue;
    }
    Step step;
    step.artifact = artifact;
    step.job.set_id(JobId(run_id, static_cast<int>(steps.size()) + 1));
    step.job.set_set_id(set->id());
    step.job.set_target(artifact.target());
    if (artifact.kind() == v1::ARTIFACT_PG_DUMP) {
      if (!request.paths().empty()) continue;  // a file-level restore
      step.job.set_kind(v1::JOB_DATABASE_RESTORE);
      const std::string name = artifact.target().substr(3);  // after "db/"
      if (deployment != nullptr) {
        for (const v1::Database& db : deployment->databases()) {
          if (db.name() == name) step.database = &db;
        }
      }
      if (step.database == nullptr) {
        problems.push_back(absl::StrCat(artifact.target(),
                                        ": the config lists no database ", name,
                                        " for ", ns, "/", release));
      }
      ++databases;
    } else {
      step.job.set_kind(v1::JOB_VOLUME_RESTORE);
      const size_t slash = artifact.target().find('/');
      const std::string owner = artifact.target().substr(0, slash);
      step.volume = artifact.target().substr(slash + 1);
      step.job.set_agent_id(
          PickAgent(agents, owner, step.volume, artifact.source()));
      if (step.job.agent_id().empty()) {
        problems.push_back(
            absl::StrCat(artifact.target(), ": no connected agent of ", ns, "/",
                         release, " is ", owner, " with volume ", step.volume));
      }
      // A profile goes back only at the fix level it was taken at.
      const std::string current =
          CurrentFixLevel(agents, step.job.agent_id(), step.volume);
      if (request.to_dir().empty() && !request.force_fixlevel() &&
          !artifact.fix_level().empty() && !current.empty() &&
          current != artifact.fix_level()) {
        problems.push_back(absl::StrCat(
            artifact.target(), ": the backup is at fix level ",
            artifact.fix_level(), " but the volume is at ", current,
            "; restore at the same fix level (the DX procedure's rule), or "
            "add --force-fixlevel"));
      }
      if (!artifact.base_set_id().empty()) {
        absl::StatusOr<std::vector<v1::Artifact>> chain =
            ArtifactChain(*parts_.sets, artifact);
        if (chain.ok()) {
          step.bases = std::move(*chain);
        } else {
          problems.push_back(
              absl::StrCat(artifact.target(), ": ", chain.status().message()));
        }
      }
      if (!request.to_dir().empty()) {
        step.to_dir =
            absl::StrCat(request.to_dir(), "/", owner, "-", step.volume);
      }
    }
    steps.push_back(std::move(step));
  }
  if (steps.empty()) {
    return absl::NotFoundError(
        request.target().empty()
            ? absl::StrCat("set ", set->id(), " has no artifacts")
            : absl::StrCat("set ", set->id(), " has no target ",
                           request.target()));
  }
  if (!request.to_dir().empty() && request.database_to().empty() &&
      databases > 0) {
    problems.push_back(
        "--to puts the volumes elsewhere, but the set's database would go "
        "over the original: add --database-to NAME, or --target a volume");
  }
  if (!request.database_to().empty() && databases > 1) {
    problems.push_back(
        "--database-to names one database but the set has several: add "
        "--target db/NAME");
  }
  if (!problems.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot restore set ", set->id(), ": ", absl::StrJoin(problems, "; ")));
  }
  // Every stored file it will read is checked first (size and SHA-256), so
  // that a corrupt one stops the restore before anything is written.
  SetVerifier verifier(parts_.sets, parts_.store, parts_.time);
  for (const Step& step : steps) {
    std::vector<v1::Artifact> parts = step.bases;
    parts.push_back(step.artifact);
    for (const v1::Artifact& part : parts) {
      v1::ArtifactCheck check = verifier.Check(part, /*deep=*/false);
      if (check.ok()) continue;
      const std::string problem = absl::StrCat(
          part.target(), " of set ", part.set_id(), ": ", check.detail());
      verifier.MarkCorrupt(part.set_id(), {problem}).IgnoreError();
      return absl::DataLossError(absl::StrCat(
          "cannot restore set ", set->id(), ": stored artifact ", problem,
          "; nothing was restored. The set is marked corrupt; restore "
          "another set (`dxbackup sets`)"));
    }
  }
  // Restoring in place quiesces what it overwrites, the way a backup does:
  // the hooks of each component whose volume goes back in place, and every
  // hook when a database goes back over the original (all components use
  // it). Restores elsewhere stop nothing.
  std::set<std::string> quiesced;
  bool quiesce_all = false;
  for (const Step& step : steps) {
    if (step.job.kind() == v1::JOB_DATABASE_RESTORE) {
      quiesce_all = quiesce_all || request.database_to().empty();
    } else if (step.to_dir.empty()) {
      for (const v1::AgentInfo& a : agents) {
        if (a.id() == step.job.agent_id()) quiesced.insert(a.component());
      }
    }
  }
  std::vector<v1::AgentInfo> hook_agents;
  for (const v1::AgentInfo& a : agents) {
    if (quiesce_all || quiesced.count(a.component())) hook_agents.push_back(a);
  }
  std::vector<HookJob> pre = PlanHooks(deployment, hook_agents, v1::Hook::PRE);
  std::vector<HookJob> post =
      PlanHooks(deployment, hook_agents, v1::Hook::POST);
  int n = static_cast<int>(steps.size());
  for (std::vector<HookJob>* hooks : {&pre, &post}) {
    for (HookJob& h : *hooks) {
      h.job.set_id(JobId(run_id, ++n));
      h.job.set_set_id(set->id());
    }
  }
  auto events = std::make_shared<RunEvents>();
  for (const Step& step : steps) {
    absl::Status s =
        parts_.board->Add(step.job, step.artifact, events, step.bases);
    if (!s.ok()) return s;
  }
  for (const std::vector<HookJob>* hooks : {&pre, &post}) {
    for (const HookJob& h : *hooks) {
      absl::Status s = parts_.board->Add(h.job, v1::Artifact(), events);
      if (!s.ok()) return s;
    }
  }
  DXLOG(INFO) << run_id << ": restoring set " << set->id() << " ("
              << steps.size() << " members)";
  threads_.Start([this, run_id, set = *set, steps = std::move(steps), request,
                  pre = std::move(pre), post = std::move(post),
                  events]() mutable {
    Run(run_id, set, std::move(steps), request, std::move(pre), std::move(post),
        events);
  });
  return StartedRun{run_id, events};
}

void RestoreRunner::RestoreDatabase(const Step& step,
                                    const std::string& database_to) {
  parts_.board->MarkRunning(step.job.id(), "scheduler");
  std::string log;
  absl::StatusOr<std::unique_ptr<ArtifactReader>> dump =
      parts_.store->Open(step.artifact.path());
  absl::Status s = dump.status();
  if (s.ok()) {
    s = scheduler::RestoreDatabase(*step.database, **dump, database_to, &log);
  }
  parts_.board->Finish(step.job.id(), s, step.artifact.bytes(), 0, log);
}

void RestoreRunner::Run(std::string run_id, v1::BackupSet set,
                        std::vector<Step> steps, v1::RestoreRequest request,
                        std::vector<HookJob> pre, std::vector<HookJob> post,
                        std::shared_ptr<RunEvents> events) {
  // The DX order: pre-hooks (stop the server), databases, volumes,
  // post-hooks (start it again, whatever happened before).
  std::vector<v1::Job> jobs =
      RunHookJobs(parts_.registry, parts_.board, *parts_.time, pre);
  const std::string blocked = PreHookBlock(pre, jobs);
  std::vector<std::thread> databases;
  std::vector<std::string> database_ids, volume_ids;
  // The deployment's own set, checked against its digests before anything
  // is written, goes back as it was, setuid/setgid bits included; into
  // another namespace or release (a clone) they are dropped unless asked
  // for.
  const bool own_deployment =
      (request.to_namespace().empty() ||
       request.to_namespace() == set.namespace_()) &&
      (request.to_release().empty() || request.to_release() == set.release());
  for (const Step& step : steps) {
    if (step.database == nullptr) continue;
    database_ids.push_back(step.job.id());
    if (!blocked.empty()) {
      parts_.board->Finish(step.job.id(),
                           absl::FailedPreconditionError(blocked));
      continue;
    }
    databases.emplace_back(&RestoreRunner::RestoreDatabase, this,
                           std::cref(step), request.database_to());
  }
  for (std::thread& t : databases) t.join();
  for (const v1::Job& j : parts_.board->WaitAndRemove(database_ids)) {
    jobs.push_back(j);
  }
  for (const Step& step : steps) {
    if (step.database != nullptr) continue;
    volume_ids.push_back(step.job.id());
    if (!blocked.empty()) {
      parts_.board->Finish(step.job.id(),
                           absl::FailedPreconditionError(blocked));
      continue;
    }
    v1::SchedulerMessage command;
    v1::RestoreCommand* restore = command.mutable_restore();
    restore->set_job_id(step.job.id());
    restore->set_volume(step.volume);
    restore->set_to_dir(step.to_dir);
    restore->set_compression(step.artifact.compression());
    restore->set_sha256(step.artifact.sha256());
    restore->set_bytes(step.artifact.bytes());
    for (const v1::Artifact& base : step.bases) {
      v1::RestorePart* part = restore->add_base_parts();
      part->set_sha256(base.sha256());
      part->set_bytes(base.bytes());
      part->set_compression(base.compression());
    }
    restore->set_mode(request.mode());
    restore->set_keep_setid(request.keep_setid() || own_deployment);
    *restore->mutable_paths() = request.paths();
    if (!DispatchToAgent(parts_.registry, parts_.board, step.job.id(),
                         step.job.agent_id(), command)) {
      parts_.board->Finish(
          step.job.id(),
          absl::UnavailableError(absl::StrCat(
              "agent ", step.job.agent_id(), " disconnected before the restore")));
    }
  }
  for (const v1::Job& j : parts_.board->WaitAndRemove(volume_ids)) {
    jobs.push_back(j);
  }
  for (const v1::Job& j :
       RunHookJobs(parts_.registry, parts_.board, *parts_.time, post))
    jobs.push_back(j);
  const std::vector<std::string> failures = FailedJobReasons(jobs);
  const std::string message =
      failures.empty()
          ? absl::StrCat(run_id, ": restored ", steps.size(),
                         " members of set ", set.id())
          : absl::StrCat(run_id, " failed: ", absl::StrJoin(failures, "; "));
  DXLOG(INFO) << message;
  events->Finish(set, failures.empty(), message);
}

}  // namespace dxbackup::scheduler
