#include "scheduler/runs/restore_runner.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/resource_names.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/databases/agent_commands.h"
#include "scheduler/databases/database_dumps.h"
#include "scheduler/kubernetes/release_restore.h"
#include "scheduler/postgres/pg_dump_runner.h"
#include "scheduler/runs/deployment_holds.h"
#include "scheduler/runs/quiesce_window.h"
#include "scheduler/runs/run_ids.h"
#include "scheduler/sets/artifact_chain.h"
#include "scheduler/sets/set_verifier.h"

namespace dxbackup::scheduler {
namespace {
// A release's Secrets and ConfigMaps are a few MiB at most.
constexpr size_t kMaxObjectsBytes = 64u << 20;
}  // namespace

RestoreRunner::RestoreRunner(const Parts& parts) : parts_(parts) {}

RestoreRunner::~RestoreRunner() {
  parts_.board->FailAll(
      absl::AbortedError("the scheduler stopped while the restore ran"));
  threads_.JoinAll();
}

absl::StatusOr<StartedRun> RestoreRunner::Start(
    const v1::RestoreRequest& request) {
  if (absl::Status s = CheckRestoreRequest(request); !s.ok()) return s;
  // Before the set is read: a held set may be gone, or found corrupt.
  if (request.release_hold()) return ReleaseHold(request);
  absl::StatusOr<std::vector<crypto::Identity>> given =
      crypto::ParseGivenIdentities(request.identities());
  if (!given.ok()) return given.status();
  // What the plan needs, read first: the set, its artifacts and the chains
  // of its incrementals, the destination's agents.
  RestoreInputs in;
  in.config = parts_.config;
  in.request = request;
  absl::StatusOr<v1::BackupSet> set = parts_.sets->GetSet(request.set_id());
  if (!set.ok()) return set.status();
  const std::string new_run_id =
      absl::StrCat("restore-", NewRunId(*parts_.time));
  // Leased before any of it is read, until the restore ends: retention
  // keeps it (and its chain) and `delete` refuses it. Read again once
  // leased: it may have been removed just before.
  std::shared_ptr<SetLeases::Lease> lease;
  if (parts_.leases != nullptr) {
    auto taken = parts_.leases->Take(set->id(), "restore " + new_run_id);
    if (!taken.ok()) return taken.status();
    lease = std::make_shared<SetLeases::Lease>(*std::move(taken));
    set = parts_.sets->GetSet(request.set_id());
    if (!set.ok()) return set.status();
  }
  // --post-hooks-only reads no stored byte: a set found corrupt since it
  // was restored still has its hooks.
  if (!request.post_hooks_only()) {
    if (absl::Status s = CheckRestorable(*set); !s.ok()) return s;
  }
  in.set = *set;
  auto artifacts = parts_.sets->ListArtifacts(set->id());
  if (!artifacts.ok()) return artifacts.status();
  in.artifacts = std::move(*artifacts);
  for (const v1::Artifact& artifact : in.artifacts) {
    if (IsDatabaseDump(artifact) || artifact.base_set_id().empty() ||
        (!request.target().empty() && artifact.target() != request.target())) {
      continue;
    }
    in.chains.emplace(artifact.target(), ArtifactChain(*parts_.sets, artifact));
  }
  const RestoreDestination to = DestinationOf(request, *set);
  // In place, the destination is held while the restore runs; one that
  // holds it already may let only some restores in.
  const bool in_place =
      request.to_dir().empty() && request.database_to().empty();
  if (in_place) {
    auto hold = HoldOn(*parts_.sets, to.namespace_, to.release);
    if (!hold.ok()) return hold.status();
    if (hold->has_value()) {
      if (absl::Status s = CheckRestoreIntoHeld(**hold, request); !s.ok()) {
        return s;
      }
    }
  }
  in.agents = parts_.registry->AgentsOf(to.namespace_, to.release);
  if (!request.to_agent().empty()) {
    if (auto named = parts_.registry->DeploymentOf(request.to_agent());
        named.ok()) {
      for (v1::AgentInfo& a :
           parts_.registry->AgentsOf(named->first, named->second)) {
        if (a.id() == request.to_agent()) in.to_agent = std::move(a);
      }
    }
  }
  in.run_id = new_run_id;
  absl::StatusOr<RestorePlan> plan = PlanRestore(in);
  if (!plan.ok()) return plan.status();
  if (absl::Status s = TrimForRequest(request, &*plan); !s.ok()) return s;
  plan->request = request;
  plan->request.clear_identities();
  // Every database's server is reached, and at the major version its dump
  // came from, before the window stops anything.
  for (const RestoreStep& step : plan->steps) {
    if (step.database == nullptr) continue;
    absl::Status s = CheckDatabaseRestore(*step.database, step.artifact,
                                          request.force_pg_version());
    if (!s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("cannot restore set ", set->id(), ": ",
                                       s.message(), "; nothing was restored"));
    }
  }
  // Every stored file it will read is checked first (size and SHA-256, and
  // that the keys given open an encrypted one), so that a corrupt file or
  // a missing key stops the restore before anything is written.
  SetVerifier verifier(parts_.sets, parts_.store, parts_.time, parts_.keys,
                       parts_.notices);
  std::vector<v1::Artifact> parts;
  for (const RestoreStep& step : plan->steps) {
    parts.insert(parts.end(), step.bases.begin(), step.bases.end());
    parts.push_back(step.artifact);
  }
  const std::vector<v1::ArtifactCheck> checks = verifier.CheckEach(parts);
  for (size_t i = 0; i < parts.size(); ++i) {
    const v1::Artifact& part = parts[i];
    const v1::ArtifactCheck& check = checks[i];
    if (!check.ok()) {
      const std::string problem = absl::StrCat(
          part.target(), " of set ", part.set_id(), ": ", check.detail());
      verifier.MarkCorrupt(part.set_id(), {problem}).IgnoreError();
      return absl::DataLossError(absl::StrCat(
          "cannot restore set ", set->id(), ": stored artifact ", problem,
          "; nothing was restored. The set is marked corrupt; restore "
          "another set (`dxbackup sets`)"));
    }
    absl::Status opens = parts_.keys->CheckOpens(*parts_.store, part, *given);
    if (!opens.ok()) {
      return absl::Status(
          opens.code(),
          absl::StrCat("cannot restore set ", set->id(), ": ", opens.message(),
                       "; nothing was restored"));
    }
  }
  if (in_place) {
    // Taken (or checked, for --post-hooks-only) again under the lock: two
    // restores starting at once do not both take it.
    std::lock_guard<std::mutex> lock(holds_mu_);
    auto hold = HoldOn(*parts_.sets, to.namespace_, to.release);
    absl::Status s = hold.status();
    if (s.ok() && hold->has_value()) s = CheckRestoreIntoHeld(**hold, request);
    if (s.ok() && request.post_hooks_only()) {
      // The hooks' success ends the hold that waited for them.
      if (hold->has_value()) plan->ends_hold_of = (*hold)->restore_id();
    } else if (s.ok()) {
      s = parts_.sets->PutHold(RunningHold(request, plan->run_id, to.namespace_,
                                           to.release, parts_.time->NowUnix()));
      plan->took_hold = s.ok();
    }
    if (!s.ok()) return s;
  }
  // A run that does not start gives back the hold it took.
  auto not_started = [&](absl::Status why) {
    if (plan->took_hold) {
      parts_.sets->ReleaseHold(to.namespace_, to.release, plan->run_id)
          .IgnoreError();
    }
    return why;
  };
  auto events = std::make_shared<RunEvents>();
  for (const RestoreStep& step : plan->steps) {
    absl::Status s =
        parts_.board->Add(step.job, step.artifact, events, step.bases);
    if (!s.ok()) return not_started(s);
  }
  for (const std::vector<HookJob>* hooks : {&plan->pre, &plan->post}) {
    for (const HookJob& h : *hooks) {
      absl::Status s = parts_.board->Add(h.job, v1::Artifact(), events);
      if (!s.ok()) return not_started(s);
    }
  }
  std::vector<std::string> job_ids;
  for (const RestoreStep& step : plan->steps) job_ids.push_back(step.job.id());
  auto grant = std::make_shared<crypto::KeyGrants::Grant>(parts_.grants->Give(
      std::move(job_ids), std::make_shared<const std::vector<crypto::Identity>>(
                              *std::move(given))));
  const std::string run_id = plan->run_id;
  DXLOG(INFO) << run_id << ": restoring set " << set->id() << " ("
              << plan->steps.size() << " members)";
  std::shared_ptr<common::Cancellation> cancel =
      parts_.cancels != nullptr ? parts_.cancels->Add(run_id)
                                : std::make_shared<common::Cancellation>();
  threads_.Start(
      [this, plan = std::move(*plan), events, grant, cancel, lease]() mutable {
        Run(std::move(plan), events, cancel, lease.get());
        grant.reset();  // the keys given go when the run ends
      });
  return StartedRun{run_id, events};
}

void RestoreRunner::RestoreDatabase(const RestoreStep& step,
                                    const std::string& database_to) {
  parts_.board->MarkRunning(step.job.id(), "scheduler");
  std::string log;
  absl::StatusOr<std::unique_ptr<ArtifactReader>> dump = parts_.keys->OpenPlain(
      *parts_.store, step.artifact, parts_.grants->For(step.job.id()));
  absl::Status s = dump.status();
  if (s.ok() && RestoresInAgent(*step.database, step.artifact)) {
    // Its command runs in an agent's pod, never here.
    s = absl::UnavailableError(absl::StrCat(
        "no agent of component ", CommandComponent(*step.database),
        " is connected to run its restore command; start one and restore ",
        step.job.target(), " again"));
  } else if (s.ok()) {
    s = RestoreAnyDatabase(*step.database, step.artifact, **dump, database_to,
                           parts_.spool_dir, &log);
  }
  parts_.board->Finish(step.job.id(), s, crypto::PlainBytes(step.artifact), 0,
                       log);
}

void RestoreRunner::RestoreObjects(const RestoreStep& step,
                                   const RestorePlan& plan) {
  parts_.board->MarkRunning(step.job.id(), "scheduler");
  std::string log;
  absl::StatusOr<std::unique_ptr<ArtifactReader>> stored =
      parts_.keys->OpenPlain(*parts_.store, step.artifact,
                             parts_.grants->For(step.job.id()));
  absl::Status s = stored.status();
  std::string yaml;
  if (s.ok()) {
    std::unique_ptr<ArtifactReader> plain =
        PgRestoreInput(step.artifact, stored->get());  // its zstd undone
    s = ForEachChunk(*plain, [&yaml](const char* data, size_t n) {
      if (yaml.size() + n > kMaxObjectsBytes) {
        return absl::DataLossError("larger than any release's objects");
      }
      yaml.append(data, n);
      return absl::OkStatus();
    });
  }
  if (s.ok()) {
    // A clone into another release leaves the Helm record out: it names
    // the release it came from.
    s = RestoreReleaseObjects(parts_.config->kubernetes_api(), yaml,
                              plan.to_namespace,
                              plan.to_release == plan.set.release(), &log);
  }
  // Names only, never contents: which objects it made and which it left.
  if (s.ok())
    DXLOG(INFO) << plan.run_id << ": " << step.job.target() << ": " << log;
  parts_.board->Finish(step.job.id(), s, crypto::PlainBytes(step.artifact), 0,
                       log);
}

WindowWork RestoreWindowWork(
    const RestorePlan& plan,
    const std::function<void(const RestoreStep&)>& restore_database) {
  WindowWork work;
  work.pre = plan.pre;
  work.post = plan.post;
  work.hold_post = plan.held_post;
  // A server's roles first: its databases' objects name them.
  std::vector<WindowJob> globals, restores;
  for (const RestoreStep& step : plan.steps) {
    WindowJob job;
    job.job_id = step.job.id();
    if (!step.job.agent_id().empty()) {
      // A volume, or a database whose restore command runs in an agent's
      // pod.
      job.agent_id = step.job.agent_id();
      job.command = step.command;
      job.disconnected = absl::StrCat("agent ", step.job.agent_id(),
                                      " disconnected before the restore");
    } else {
      job.run = [&restore_database, &step] { restore_database(step); };
    }
    if (step.database != nullptr && RunsWhileUp(*step.database)) {
      // A command that needs DX up (xmlaccess): once the post-hooks ran.
      work.after.push_back(std::move(job));
      continue;
    }
    (step.artifact.kind() == v1::ARTIFACT_PG_GLOBALS ? globals : restores)
        .push_back(std::move(job));
  }
  // Failed roles leave every database and volume as it was.
  work.stages_need_previous = true;
  for (std::vector<WindowJob>* stage : {&globals, &restores}) {
    if (!stage->empty()) work.stages.push_back(std::move(*stage));
  }
  return work;
}

absl::StatusOr<StartedRun> RestoreRunner::ReleaseHold(
    const v1::RestoreRequest& request) {
  if (request.post_hooks_only() || !request.target().empty() ||
      !request.to_dir().empty() || !request.database_to().empty() ||
      request.paths_size() > 0) {
    return absl::InvalidArgumentError(
        "--release-hold runs nothing: give it the set alone (and a clone's "
        "--to-namespace and --to-release); --post-hooks-only runs the "
        "hooks and ends the hold itself");
  }
  std::lock_guard<std::mutex> lock(holds_mu_);
  absl::StatusOr<v1::DeploymentHold> hold =
      HoldToRelease(*parts_.sets, request);
  if (!hold.ok()) return hold.status();
  absl::Status released = parts_.sets->ReleaseHold(
      hold->namespace_(), hold->release(), hold->restore_id());
  if (!released.ok()) return released;
  const std::string message =
      absl::StrCat("released the hold restore ", hold->restore_id(), " of set ",
                   hold->set_id(), " left on ", hold->namespace_(), "/",
                   hold->release(), ": its backup sets are taken again");
  DXLOG(INFO) << message;
  v1::BackupSet set;  // it may be gone: the event names it
  set.set_id(hold->set_id());
  set.set_namespace_(hold->namespace_());
  set.set_release(hold->release());
  auto events = std::make_shared<RunEvents>();
  events->Finish(set, true, message);
  return StartedRun{hold->restore_id(), events};
}

std::string RestoreRunner::RecordHold(const RestorePlan& plan,
                                      const WindowResult& window, bool ok) {
  const std::string deployment =
      absl::StrCat(plan.to_namespace, "/", plan.to_release);
  absl::Status s;
  std::string outcome;
  if (window.post_held) {
    // Its own running hold becomes a waiting one.
    s = parts_.sets->PutHold(
        WaitingHold(plan.request, plan.run_id, plan.to_namespace,
                    plan.to_release, plan.held_post, parts_.time->NowUnix()));
    if (s.ok()) {
      DXLOG(WARNING) << plan.run_id << ": " << deployment
                     << " is held (no backup set of it is taken) until the "
                        "restore's post-hooks ran";
    } else {
      outcome = absl::StrCat(
          "; WARNING: ", deployment,
          " could not be held, so scheduled sets of it may start (and their "
          "hooks start DX) before its post-hooks ran: ",
          s.message());
    }
  } else if (plan.took_hold) {
    s = parts_.sets->ReleaseHold(plan.to_namespace, plan.to_release,
                                 plan.run_id);
  }
  if (ok && !plan.ends_hold_of.empty()) {
    s = parts_.sets->ReleaseHold(plan.to_namespace, plan.to_release,
                                 plan.ends_hold_of);
    if (s.ok()) {
      DXLOG(INFO) << plan.run_id << ": " << deployment << " is no longer "
                  << "held by restore " << plan.ends_hold_of;
    }
  }
  if (!s.ok() && outcome.empty()) {
    DXLOG(ERROR) << plan.run_id << ": the hold on " << deployment
                 << " could not be ended: " << s.message();
    outcome = absl::StrCat(
        "; WARNING: the hold on ", deployment, " could not be ended (",
        s.message(), "): no set of it starts until it is (`dxbackup show ",
        plan.set.id(), "`)");
  }
  return outcome;
}

void RestoreRunner::Run(RestorePlan plan, std::shared_ptr<RunEvents> events,
                        std::shared_ptr<common::Cancellation> cancel,
                        SetLeases::Lease* lease) {
  const std::function<void(const RestoreStep&)> restore_database =
      [this, &plan](const RestoreStep& step) {
        if (step.job.kind() == v1::JOB_OBJECTS_RESTORE) {
          RestoreObjects(step, plan);
        } else {
          RestoreDatabase(step, plan.database_to);
        }
      };
  WindowWork work = RestoreWindowWork(plan, restore_database);
  work.cancel = cancel.get();
  const WindowResult window =
      QuiesceWindow({parts_.registry, parts_.board, parts_.time}).Run(work);
  if (parts_.cancels != nullptr) parts_.cancels->Remove(plan.run_id);
  // Cancelled: the reason says by whom, once, before what failed besides.
  std::vector<std::string> failures;
  const bool cancelled = window.cancelled && cancel->cancelled();
  if (cancelled) failures.push_back(cancel->why());
  for (std::string& failure :
       FailedJobReasons(window.jobs, /*but_cancelled=*/cancelled)) {
    failures.push_back(std::move(failure));
  }
  const std::string hold = RecordHold(plan, window, failures.empty());
  const std::string done =
      plan.steps.empty() && !plan.post.empty()
          ? absl::StrCat(plan.run_id, ": ran the ", plan.post.size(),
                         " post-hooks of a restore of set ", plan.set.id())
          : absl::StrCat(plan.run_id, ": restored ", plan.steps.size(),
                         " members of set ", plan.set.id());
  const std::string message = absl::StrCat(
      failures.empty()
          ? done
          : absl::StrCat(plan.run_id,
                         " failed: ", absl::StrJoin(failures, "; ")),
      hold);
  DXLOG(INFO) << message;
  // Released before the end is told: whoever waited for it may remove
  // the set at once.
  if (lease != nullptr) lease->Release();
  events->Finish(plan.set, failures.empty(), message);
}

}  // namespace dxbackup::scheduler
