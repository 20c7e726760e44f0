#include "scheduler/drills/drill_runner.h"

#include <map>
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/resource_names.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/databases/discovered_databases.h"
#include "scheduler/drills/dump_tables.h"
#include "scheduler/notify/notices.h"
#include "scheduler/postgres/pg_connection.h"
#include "scheduler/runs/hook_jobs.h"
#include "scheduler/runs/run_ids.h"

namespace dxbackup::scheduler {
namespace {

constexpr int kCleanupTimeoutSeconds = 60;
constexpr int kSmokeTimeoutSeconds = 300;  // DrillSmoke.timeout_seconds 0

// The smoke test of the policy that took `set`, if it gives one (a manual
// set has none).
const v1::DrillSmoke* SmokeOf(const v1::SchedulerConfig& config,
                              const v1::BackupSet& set) {
  for (const v1::Policy& p : config.policies()) {
    if (p.name() == set.policy() && p.drill().has_smoke()) {
      return &p.drill().smoke();
    }
  }
  return nullptr;
}

// dxdrill_<drill id, lower case, letters and digits>_<n>: this drill's
// own, so that no drill drops another's (or anyone's) database.
std::string ScratchDatabase(const std::string& drill_id, int n) {
  std::string name = "dxdrill_";
  for (char c : drill_id.substr(sizeof "drill-" - 1)) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      name += absl::ascii_tolower(static_cast<unsigned char>(c));
    }
  }
  return absl::StrCat(name, "_", n);
}

// The request's destination: a named agent, or a scratch deployment by
// both its names, or neither.
absl::Status CheckDestination(const v1::DrillRequest& request) {
  if (!request.to_agent().empty()) {
    if (absl::Status s = common::CheckAgentId("--agent", request.to_agent());
        !s.ok()) {
      return s;
    }
    if (!request.to_namespace().empty() || !request.to_release().empty()) {
      return absl::InvalidArgumentError(
          "give --agent or --to-namespace and --to-release, not both");
    }
  }
  if (request.to_namespace().empty() != request.to_release().empty()) {
    return absl::InvalidArgumentError(
        "a scratch deployment needs both --to-namespace and --to-release");
  }
  for (const auto& [flag, value] :
       {std::pair<const char*, const std::string*>{"--to-namespace",
                                                   &request.to_namespace()},
        {"--to-release", &request.to_release()}}) {
    if (value->empty()) continue;
    if (absl::Status s = common::CheckDnsLabel(flag, *value); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status DropScratchDatabase(const v1::Database& db,
                                 const std::string& name) {
  absl::StatusOr<std::string> password = ReadPassword(db);
  if (!password.ok()) return password.status();
  auto pg = PgConnection::Open(db, *password, kMaintenanceDb);
  if (!pg.ok()) return pg.status();
  const bool force = (*pg)->ServerVersion() >= 130000;
  auto dropped = (*pg)->Query(absl::StrCat("DROP DATABASE IF EXISTS ",
                                           (*pg)->QuoteIdentifier(name),
                                           force ? " WITH (FORCE)" : ""));
  return dropped.status();
}

}  // namespace

struct DrillRunner::Restore {
  v1::Artifact artifact;
  DatabaseConfig database;  // a PostgreSQL dump's
  std::string scratch;      // its scratch database
  v1::RestoreRequest request;
  std::shared_ptr<RunEvents> events;
  std::string run_id;  // the restore's, once started
  std::string error;   // why it could not start or did not end well
  std::map<std::string, v1::Job> jobs;  // each job's last record
};

std::vector<std::string> DrillRunner::RemoveOnAgents(
    const std::string& drill_id, const std::vector<std::string>& agents,
    const std::string& dir, const std::string& set_id) {
  v1::Hook hook;
  hook.set_name("drill-cleanup");
  for (const char* arg : {"rm", "-rf", "--"}) hook.add_command(arg);
  hook.add_command(dir);
  hook.set_timeout_seconds(kCleanupTimeoutSeconds);
  auto events = std::make_shared<RunEvents>();
  std::vector<HookJob> jobs;
  std::vector<std::string> failures;
  for (const std::string& agent : agents) {
    HookJob h{{}, &hook, ""};
    h.job.set_id(JobId(drill_id, static_cast<int>(jobs.size()) + 1));
    h.job.set_set_id(set_id);
    h.job.set_kind(v1::JOB_HOOK);
    h.job.set_target("drill/cleanup");
    h.job.set_agent_id(agent);
    if (absl::Status s = parts_.board->Add(h.job, {}, events); !s.ok()) {
      failures.push_back(absl::StrCat(agent, ": ", s.message()));
      continue;
    }
    jobs.push_back(std::move(h));
  }
  for (const v1::Job& j :
       RunHookJobs(parts_.registry, parts_.board, *parts_.time, jobs)) {
    if (j.status() != v1::JOB_SUCCEEDED) {
      failures.push_back(absl::StrCat(j.agent_id(), ": ", j.error()));
    }
  }
  return failures;
}

DrillRunner::Candidates DrillRunner::SmokeCandidates(
    const v1::DrillRequest& request, const std::string& to_namespace,
    const std::string& to_release) {
  Candidates out;
  if (request.to_agent().empty()) {
    out.where = absl::StrCat(to_namespace, "/", to_release);
    out.agents = parts_.registry->AgentsOf(to_namespace, to_release);
    return out;
  }
  out.where = request.to_agent();
  out.named = true;
  if (auto named = parts_.registry->DeploymentOf(request.to_agent());
      named.ok()) {
    for (v1::AgentInfo& a :
         parts_.registry->AgentsOf(named->first, named->second)) {
      if (a.id() == request.to_agent()) out.agents.push_back(std::move(a));
    }
  }
  return out;
}

std::string DrillRunner::RunSmoke(const v1::DrillSmoke& smoke,
                                  const std::string& drill_id,
                                  const v1::BackupSet& set,
                                  const std::string& dir,
                                  const std::string& databases,
                                  const std::set<std::string>& restored_on,
                                  const Candidates& candidates) {
  // The agent: the named one; or of the smoke's component, or one that
  // restored a volume (it sees `dir`), or else any of the destination's.
  const std::vector<v1::AgentInfo>& connected = candidates.agents;
  const v1::AgentInfo* runner = nullptr;
  for (const v1::AgentInfo& a : connected) {
    const bool fits =
        candidates.named ||
        (smoke.component().empty() ? restored_on.count(a.id()) != 0
                                   : a.component() == smoke.component());
    if (fits && runner == nullptr) runner = &a;
  }
  // No volume came back (a database-only set): any agent will do.
  if (runner == nullptr && smoke.component().empty() && restored_on.empty() &&
      !connected.empty()) {
    runner = &connected.front();
  }
  if (runner == nullptr && candidates.named) {
    return absl::StrCat("agent ", candidates.where,
                        " is not connected to run it");
  }
  if (runner == nullptr) {
    return absl::StrCat(
        "no agent of ", candidates.where,
        smoke.component().empty()
            ? (restored_on.empty() ? ""
                                   : " that restored the volumes (and so sees "
                                     "them)")
            : " of component " + smoke.component(),
        " is connected to run it");
  }
  v1::Hook hook;
  hook.set_name("drill-smoke");
  *hook.mutable_command() = smoke.command();
  hook.set_shell(smoke.shell());
  hook.set_timeout_seconds(smoke.timeout_seconds() > 0 ? smoke.timeout_seconds()
                                                       : kSmokeTimeoutSeconds);
  (*hook.mutable_env())["DXBACKUP_DRILL_DIR"] = dir;
  (*hook.mutable_env())["DXBACKUP_DRILL_SET"] = set.id();
  (*hook.mutable_env())["DXBACKUP_DRILL_DATABASES"] = databases;
  HookJob h{{}, &hook, runner->pod()};
  h.job.set_id(JobId(drill_id, 0));  // the cleanup's are 1, 2, ...
  h.job.set_set_id(set.id());
  h.job.set_kind(v1::JOB_HOOK);
  h.job.set_target("drill/smoke");
  h.job.set_agent_id(runner->id());
  if (absl::Status s =
          parts_.board->Add(h.job, {}, std::make_shared<RunEvents>());
      !s.ok()) {
    return std::string(s.message());
  }
  const std::vector<v1::Job> done =
      RunHookJobs(parts_.registry, parts_.board, *parts_.time, {h});
  if (done.size() == 1 && done[0].status() == v1::JOB_SUCCEEDED) return "";
  std::string why = done.empty() ? "it did not run" : done[0].error();
  if (!done.empty() && !done[0].log().empty()) {
    absl::StrAppend(
        &why, " (",
        absl::StripTrailingAsciiWhitespace(done[0].log().substr(
            done[0].log().size() > 500 ? done[0].log().size() - 500 : 0)),
        ")");
  }
  return absl::StrCat(why, " on ", runner->pod());
}

void DrillRunner::Stop() {
  std::set<std::string> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    running = restores_running_;
  }
  for (const std::string& id : running) {
    if (parts_.cancels != nullptr) {
      parts_.cancels->Cancel(id, "the scheduler is stopping").IgnoreError();
    }
  }
}

absl::StatusOr<v1::DrillResponse> DrillRunner::Drill(
    const v1::DrillRequest& request) {
  absl::StatusOr<v1::BackupSet> set = parts_.sets->GetSet(request.set_id());
  if (!set.ok()) return set.status();
  const std::string to_dir =
      request.to_dir().empty() ? kDefaultDrillDir : request.to_dir();
  if (absl::Status s = common::CheckNormalAbsoluteDir("--to", to_dir);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckDestination(request); !s.ok()) return s;
  // A set no restore takes proves nothing either way: said, not recorded.
  if (set->status() != v1::SET_COMPLETE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "set ", set->id(), " is ", v1::SetStatus_Name(set->status()),
        ", not complete: only a complete set is drilled"));
  }
  if (set->verification().result() == v1::Verification::CORRUPT) {
    return absl::FailedPreconditionError(absl::StrCat(
        "set ", set->id(), " was found corrupt (", set->verification().detail(),
        "): restore refuses it; take a new set"));
  }
  // One drill of a deployment at a time.
  const std::string deployment =
      absl::StrCat(set->namespace_(), "/", set->release());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      return absl::UnavailableError("the scheduler is stopping");
    }
    if (!drilling_.insert(deployment).second) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a drill of ", deployment, " is running; try when it ended"));
    }
  }
  // Unmarked, and counted as ended (AwaitEnded), under one lock: a drill
  // of the same deployment may start as soon as this one is seen ended.
  struct Unmark {
    DrillRunner* runner;
    std::string deployment;
    bool ran = false;  // counted as ended
    ~Unmark() {
      {
        std::lock_guard<std::mutex> lock(runner->mu_);
        runner->drilling_.erase(deployment);
        if (ran) ++runner->ended_;
      }
      if (ran) runner->ended_cv_.notify_all();
    }
  } unmark{this, deployment};
  // The set stays (retention, `delete`) from here to its record; read
  // again once leased, as it may have been removed just before.
  SetLeases::Lease lease;
  if (parts_.leases != nullptr) {
    auto taken = parts_.leases->Take(set->id(), "a drill");
    if (!taken.ok()) return taken.status();
    lease = *std::move(taken);
    set = parts_.sets->GetSet(request.set_id());
    if (!set.ok()) return set.status();
  }
  unmark.ran = true;

  const std::string drill_id = absl::StrCat("drill-", NewRunId(*parts_.time));
  const std::string dir = absl::StrCat(to_dir, "/", drill_id);
  DXLOG(INFO) << drill_id << ": drilling set " << set->id() << " of "
              << deployment << " under " << dir;
  std::vector<std::string> checks, failures;
  auto fail = [&](const std::string& what) {
    failures.push_back(what);
    checks.push_back("FAILED " + what);
  };
  // Where it goes: the set's own deployment's agents and servers, a
  // scratch deployment's (a clone of the set there), or one named agent.
  const bool scratch = !request.to_namespace().empty();
  const std::string to_namespace =
      scratch ? request.to_namespace() : set->namespace_();
  const std::string to_release =
      scratch ? request.to_release() : set->release();
  const auto start = parts_.time->Monotonic();
  std::vector<Restore> restores;
  if (auto artifacts = parts_.sets->ListArtifacts(set->id()); !artifacts.ok()) {
    fail(std::string(artifacts.status().message()));
  } else {
    const v1::Deployment* config =
        FindDeployment(*parts_.config, to_namespace, to_release);
    int databases = 0;  // numbers the scratch databases
    for (const v1::Artifact& a : *artifacts) {
      Restore r;
      r.artifact = a;
      r.request.set_set_id(set->id());
      r.request.set_target(a.target());
      if (scratch) {
        r.request.set_to_namespace(to_namespace);
        r.request.set_to_release(to_release);
        r.request.set_clone(true);
      }
      if (a.kind() == v1::ARTIFACT_VOLUME_TAR) {
        r.request.set_to_dir(dir);
        r.request.set_to_agent(request.to_agent());
        r.request.set_mode(v1::RESTORE_REPLACE);  // the set's moment, exactly
      } else if (a.kind() == v1::ARTIFACT_PG_DUMP) {
        r.database = DatabaseFor(config, a);
        if (r.database == nullptr) {
          fail(absl::StrCat(a.target(), ": the config of ", to_namespace, "/",
                            to_release,
                            " has no database for it, so it could not be "
                            "restored"));
          continue;
        }
        r.scratch = ScratchDatabase(drill_id, ++databases);
        r.request.set_database_to(r.scratch);
      } else {
        checks.push_back(absl::StrCat("not drilled: ", a.target(), " (",
                                      v1::ArtifactKind_Name(a.kind()), ")"));
        continue;
      }
      restores.push_back(std::move(r));
    }
    if (restores.empty() && failures.empty()) {
      fail(absl::StrCat("set ", set->id(),
                        " has no volume or PostgreSQL dump a drill restores"));
    }
    // Every restore at once, as a real recovery would run them.
    for (Restore& r : restores) {
      absl::StatusOr<StartedRun> run = parts_.restores->Start(r.request);
      if (!run.ok()) {
        r.error = std::string(run.status().message());
        continue;
      }
      r.events = run->events;
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu_);
        restores_running_.insert(run->id);
        stopping = stopping_;
      }
      if (stopping && parts_.cancels != nullptr) {
        parts_.cancels->Cancel(run->id, "the scheduler is stopping")
            .IgnoreError();
      }
      r.run_id = run->id;
    }
    for (Restore& r : restores) {
      if (r.events == nullptr) continue;
      size_t next = 0;
      v1::SetEvent event;
      while (r.events->WaitNext(&next, &event)) {
        if (event.has_job()) r.jobs[event.job().id()] = event.job();
        if (event.done() && !event.ok()) r.error = event.message();
      }
      std::lock_guard<std::mutex> lock(mu_);
      restores_running_.erase(r.run_id);
    }
  }
  const int64_t rto = std::chrono::duration_cast<std::chrono::seconds>(
                          parts_.time->Monotonic() - start)
                          .count();
  // What came back.
  std::set<std::string> agents;  // what wrote under `dir`, even in part
  for (const Restore& r : restores) {
    if (r.artifact.kind() != v1::ARTIFACT_VOLUME_TAR) continue;
    for (const auto& [id, job] : r.jobs) {
      if (!job.agent_id().empty()) agents.insert(job.agent_id());
    }
  }
  for (Restore& r : restores) {
    const std::string& target = r.artifact.target();
    if (!r.error.empty()) {
      fail(absl::StrCat(target, ": ", r.error));
      continue;
    }
    if (r.artifact.kind() == v1::ARTIFACT_VOLUME_TAR) {
      uint64_t restored = 0;
      for (const auto& [id, job] : r.jobs) restored += job.files();
      uint64_t indexed = 0;
      v1::ListFilesRequest list;
      list.set_set_id(r.artifact.set_id());
      list.set_target(target);
      absl::Status s =
          parts_.files->ForEachFile(list, [&indexed](const v1::IndexedFile&) {
            ++indexed;
            return true;
          });
      if (!s.ok()) {
        fail(absl::StrCat(target,
                          ": its file index cannot be read: ", s.message()));
      } else if (restored != indexed) {
        fail(absl::StrCat(target, ": ", restored, " entries restored, the ",
                          "set's index lists ", indexed));
      } else {
        checks.push_back(absl::StrCat(
            "ok ", target, ": ", restored, " entries restored, ", indexed,
            " in the index",
            r.artifact.base_set_id().empty() ? "" : " (an incremental chain)"));
      }
      continue;
    }
    absl::StatusOr<std::vector<DumpTable>> tables =
        TablesInDump(*parts_.store, *parts_.keys, r.artifact);
    if (!tables.ok()) {
      fail(absl::StrCat(target, ": ", tables.status().message()));
      continue;
    }
    absl::StatusOr<std::vector<TableCount>> counts =
        CountRows(*r.database, r.scratch, *tables);
    if (!counts.ok()) {
      fail(absl::StrCat(target, ": ", counts.status().message()));
      continue;
    }
    int64_t rows = 0;
    std::vector<std::string> missing;
    for (const TableCount& c : *counts) {
      if (c.rows < 0) {
        missing.push_back(absl::StrCat(c.table.schema, ".", c.table.name, " (",
                                       c.error, ")"));
      } else {
        rows += c.rows;
      }
    }
    if (!missing.empty()) {
      fail(absl::StrCat(target, ": tables of the dump not readable in ",
                        r.scratch, ": ", absl::StrJoin(missing, ", ")));
    } else {
      checks.push_back(absl::StrCat("ok ", target, ": ", counts->size(),
                                    " tables, ", rows, " rows in ", r.scratch));
    }
  }
  // The policy's smoke test, on what came back (not after a failure: it
  // would only say so again).
  if (const v1::DrillSmoke* smoke = SmokeOf(*parts_.config, *set)) {
    std::string databases;
    for (const Restore& r : restores) {
      if (r.database == nullptr) continue;
      absl::StrAppend(&databases, databases.empty() ? "" : " ",
                      absl::StripPrefix(r.artifact.target(), "db/"), "=",
                      r.scratch);
    }
    if (!failures.empty()) {
      checks.push_back("smoke test not run: the drill had failed");
    } else if (std::string why =
                   RunSmoke(*smoke, drill_id, *set, dir, databases, agents,
                            SmokeCandidates(request, to_namespace, to_release));
               !why.empty()) {
      fail("smoke test: " + why);
    } else {
      checks.push_back("ok smoke test");
    }
  }
  // Clean up; a leftover is said, but does not fail the drill.
  for (const std::string& left : RemoveOnAgents(
           drill_id, {agents.begin(), agents.end()}, dir, set->id())) {
    checks.push_back(absl::StrCat("cleanup: ", dir, " stays on ", left));
  }
  for (const Restore& r : restores) {
    if (r.database == nullptr) continue;
    if (absl::Status s = DropScratchDatabase(*r.database, r.scratch); !s.ok()) {
      checks.push_back(
          absl::StrCat("cleanup: ", r.scratch, " stays: ", s.message()));
    }
  }
  // Only the drill is written: the rest of the set may have changed.
  v1::BackupSet recorded = *set;
  v1::Drill* drill = recorded.mutable_drill();
  drill->set_result(failures.empty() ? v1::Drill::PASSED : v1::Drill::FAILED);
  drill->set_drilled_unix(parts_.time->NowUnix());
  drill->set_rto_seconds(rto);
  drill->set_detail(absl::StrJoin(failures.empty() ? checks : failures, "; "));
  if (absl::Status s = parts_.sets->RecordDrill(set->id(), *drill); !s.ok()) {
    checks.push_back(
        absl::StrCat("the drill could not be recorded: ", s.message()));
  }
  DXLOG(INFO) << drill_id << ": set " << set->id() << " "
              << (failures.empty() ? "passed" : "FAILED") << " in " << rto
              << " s: " << drill->detail();
  if (parts_.metrics != nullptr) parts_.metrics->DrillEnded(recorded);
  if (!failures.empty() && parts_.notices != nullptr) {
    parts_.notices->Notify(DrillFailedNotice(recorded));
  }
  v1::DrillResponse response;
  *response.mutable_set() = recorded;
  for (std::string& c : checks) response.add_checks(std::move(c));
  return response;
}

bool DrillRunner::AwaitEnded(int count, std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return ended_cv_.wait_for(lock, timeout,
                            [this, count] { return ended_ >= count; });
}

}  // namespace dxbackup::scheduler
