#include "scheduler/drills/drill_runner.h"

#include <map>
#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
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

// An absolute directory without "." or ".." parts, not "/" itself: what
// the cleanup may remove below.
absl::Status CheckDrillDir(const std::string& dir) {
  bool bad = dir.empty() || dir[0] != '/' || dir == "/";
  for (absl::string_view part : absl::StrSplit(dir.substr(1), '/')) {
    bad = bad || part.empty() || part == "." || part == "..";
  }
  if (!bad) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "the drill directory \"", dir,
      "\" must be absolute, without . or .. parts (each agent restores "
      "under it, then removes what it restored)"));
}

// dxdrill_<member name>, cut to PostgreSQL's 63 bytes.
std::string ScratchDatabase(const v1::Artifact& dump) {
  return absl::StrCat("dxdrill_", dump.target().substr(3)).substr(0, 63);
}

absl::Status DropScratchDatabase(const v1::Database& db,
                                 const std::string& name) {
  absl::StatusOr<std::string> password = ReadPassword(db);
  if (!password.ok()) return password.status();
  auto pg = PgConnection::Open(db, *password, "postgres");
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
  std::string error;  // why it could not start or did not end well
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

absl::StatusOr<v1::DrillResponse> DrillRunner::Drill(
    const v1::DrillRequest& request) {
  absl::StatusOr<v1::BackupSet> set = parts_.sets->GetSet(request.set_id());
  if (!set.ok()) return set.status();
  const std::string to_dir =
      request.to_dir().empty() ? kDefaultDrillDir : request.to_dir();
  if (absl::Status s = CheckDrillDir(to_dir); !s.ok()) return s;
  const std::string drill_id = absl::StrCat("drill-", NewRunId(*parts_.time));
  const std::string dir = absl::StrCat(to_dir, "/", drill_id);
  DXLOG(INFO) << drill_id << ": drilling set " << set->id() << " of "
              << set->namespace_() << "/" << set->release() << " under " << dir;
  std::vector<std::string> checks, failures;
  auto fail = [&](const std::string& what) {
    failures.push_back(what);
    checks.push_back("FAILED " + what);
  };
  const auto start = parts_.time->Monotonic();
  std::vector<Restore> restores;
  if (set->status() != v1::SET_COMPLETE) {
    fail(absl::StrCat("set ", set->id(), " is ",
                      v1::SetStatus_Name(set->status()), ", not complete"));
  } else if (set->verification().result() == v1::Verification::CORRUPT) {
    fail(absl::StrCat("set ", set->id(),
                      " was found corrupt: ", set->verification().detail()));
  } else if (auto artifacts = parts_.sets->ListArtifacts(set->id());
             !artifacts.ok()) {
    fail(std::string(artifacts.status().message()));
  } else {
    const v1::Deployment* deployment =
        FindDeployment(*parts_.config, set->namespace_(), set->release());
    for (const v1::Artifact& a : *artifacts) {
      Restore r;
      r.artifact = a;
      r.request.set_set_id(set->id());
      r.request.set_target(a.target());
      if (a.kind() == v1::ARTIFACT_VOLUME_TAR) {
        r.request.set_to_dir(dir);
        r.request.set_mode(v1::RESTORE_REPLACE);  // the set's moment, exactly
      } else if (a.kind() == v1::ARTIFACT_PG_DUMP &&
                 (r.database = DatabaseFor(deployment, a)) != nullptr) {
        r.scratch = ScratchDatabase(a);
        r.request.set_database_to(r.scratch);
        // Left by a drill that did not end: the restore needs it gone.
        DropScratchDatabase(*r.database, r.scratch).IgnoreError();
      } else {
        checks.push_back(absl::StrCat("not drilled: ", a.target(), " (",
                                      v1::ArtifactKind_Name(a.kind()), ")"));
        continue;
      }
      restores.push_back(std::move(r));
    }
    // Every restore at once, as a real recovery would run them.
    for (Restore& r : restores) {
      absl::StatusOr<StartedRun> run = parts_.restores->Start(r.request);
      if (run.ok()) {
        r.events = run->events;
      } else {
        r.error = std::string(run.status().message());
      }
    }
    for (Restore& r : restores) {
      if (r.events == nullptr) continue;
      size_t next = 0;
      v1::SetEvent event;
      while (r.events->WaitNext(&next, &event)) {
        if (event.has_job()) r.jobs[event.job().id()] = event.job();
        if (event.done() && !event.ok()) r.error = event.message();
      }
    }
  }
  const int64_t rto = std::chrono::duration_cast<std::chrono::seconds>(
                          parts_.time->Monotonic() - start)
                          .count();
  // What came back.
  std::set<std::string> agents;
  for (Restore& r : restores) {
    const std::string& target = r.artifact.target();
    if (!r.error.empty()) {
      fail(absl::StrCat(target, ": ", r.error));
      continue;
    }
    if (r.artifact.kind() == v1::ARTIFACT_VOLUME_TAR) {
      uint64_t restored = 0;
      for (const auto& [id, job] : r.jobs) {
        restored += job.files();
        if (!job.agent_id().empty()) agents.insert(job.agent_id());
      }
      uint64_t indexed = 0;
      v1::ListFilesRequest list;
      list.set_set_id(r.artifact.set_id());
      list.set_target(target);
      absl::Status s =
          parts_.files->ForEachFile(list, [&indexed](const v1::IndexedFile&) {
            ++indexed;
            return true;
          });
      const bool full = r.artifact.base_set_id().empty();
      if (!s.ok()) {
        fail(absl::StrCat(target,
                          ": its file index cannot be read: ", s.message()));
      } else if (full ? restored != indexed : restored < indexed) {
        fail(absl::StrCat(target, ": ", restored, " entries restored, the ",
                          "set's index lists ", indexed));
      } else {
        checks.push_back(absl::StrCat("ok ", target, ": ", restored,
                                      " entries restored, ", indexed,
                                      " in the index"));
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
  // Recorded on the set as it is now (a verification may have ended
  // meanwhile).
  v1::BackupSet recorded = *set;
  if (auto now = parts_.sets->GetSet(set->id()); now.ok()) recorded = *now;
  v1::Drill* drill = recorded.mutable_drill();
  drill->set_result(failures.empty() ? v1::Drill::PASSED : v1::Drill::FAILED);
  drill->set_drilled_unix(parts_.time->NowUnix());
  drill->set_rto_seconds(rto);
  drill->set_detail(absl::StrJoin(failures.empty() ? checks : failures, "; "));
  if (absl::Status s = parts_.sets->UpdateSet(recorded); !s.ok()) {
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

}  // namespace dxbackup::scheduler
