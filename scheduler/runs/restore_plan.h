// PlanRestore decides what a restore of one backup set does, from plain
// values and nothing else: no catalog, no store, no agents' connections,
// no clock. It returns every refusal RestoreRunner makes before it writes
// anything (apart from the stored-bytes check, which reads the store, and
// the databases' servers, which RestoreRunner reaches), or
// the plan: the steps (each database dump and volume archive to put back,
// with the agent and command of each volume), and the quiesce hooks of
// the components whose data goes back in place.
//
//   absl::Status s = CheckRestoreRequest(request);     // before any read
//   ... read the set; CheckRestorable(set) ...
//   ... read its artifacts, their chains, the agents ...
//   absl::StatusOr<RestorePlan> plan = PlanRestore(inputs);
//
// The refusals, each with a message naming the thing and what to do:
// InvalidArgument for a database_to that is no plain name;
// FailedPrecondition for a set not complete or found corrupt, a restore
// into another deployment without `clone`, and the problems of the steps
// (a database the config does not list, a volume no connected agent has,
// a profile at another fix level than the volume's without
// force_fixlevel, an incremental whose chain is broken, `to_dir` with a
// database going over the original, `database_to` with several
// databases); NotFound when nothing of the set matches.
#ifndef DXBACKUP_SCHEDULER_RUNS_RESTORE_PLAN_H_
#define DXBACKUP_SCHEDULER_RUNS_RESTORE_PLAN_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/agent.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/databases/discovered_databases.h"
#include "scheduler/runs/hook_jobs.h"

namespace dxbackup::scheduler {

// The namespace and release a restore goes into: the request's, or the
// set's own where the request names none.
struct RestoreDestination {
  std::string namespace_;
  std::string release;
};
RestoreDestination DestinationOf(const v1::RestoreRequest& request,
                                 const v1::BackupSet& set);

// What PlanRestore reads; all of it read beforehand by the caller.
struct RestoreInputs {
  // The deployments (databases, hooks); must outlive the plan, which
  // points into it.
  const v1::SchedulerConfig* config = nullptr;
  v1::RestoreRequest request;
  // The set restored and its artifacts (Catalog::ListArtifacts).
  v1::BackupSet set;
  std::vector<v1::Artifact> artifacts;
  // For each volume artifact with a base_set_id, by target: its chain
  // (ArtifactChain), or the error reading it.
  std::map<std::string, absl::StatusOr<std::vector<v1::Artifact>>> chains;
  // The connected agents of DestinationOf(request, set).
  std::vector<v1::AgentInfo> agents;
  // The connected agent request.to_agent names; none when it names none
  // or that agent is not connected.
  std::optional<v1::AgentInfo> to_agent;
  // The restore's run id ("restore-<NewRunId>"): names the jobs.
  std::string run_id;
};

// One member of the set put back.
struct RestoreStep {
  v1::Job job;                      // id, set, kind, target, agent
  v1::Artifact artifact;            // what is read
  DatabaseConfig database;          // a database step: its config
  std::vector<v1::Artifact> bases;  // an incremental's chain
  // A volume step, or a database step whose restore command runs in an
  // agent's pod (job.agent_id set): what its agent is sent.
  v1::SchedulerMessage command;
};

struct RestorePlan {
  std::string run_id;
  v1::BackupSet set;
  std::string database_to;  // "" over the original database
  // The deployment it goes into (DestinationOf).
  std::string to_namespace, to_release;
  // Databases and volumes, in the set's artifact order; job ids 1..n.
  // A server's globals (ARTIFACT_PG_GLOBALS) go back first, before the
  // rest start (RestoreWindowWork), and only over the original server:
  // with database_to they are left out, and so they are from a clone
  // unless its target names them.
  std::vector<RestoreStep> steps;
  // The quiesce hooks; job ids after the steps', pre-hooks first.
  std::vector<HookJob> pre, post;
  // Set (TrimForRequest): the post-hooks are not run once the steps ran,
  // and their jobs fail with this (see WindowWork::hold_post).
  std::string held_post;
  // Set (RestoreRunner): the request, without its identities.
  v1::RestoreRequest request;
  // Set (RestoreRunner): it holds its destination while it runs
  // (deployment_holds.h); and the restore whose waiting hold its
  // --post-hooks-only ends once they succeeded.
  bool took_hold = false;
  std::string ends_hold_of;
};

// What RestoreRunner runs of `plan` for `request`. With post_hooks_only,
// only the post-hooks: FailedPrecondition unless the set
// has an external database restored by hand (whose restore held them) and a
// post-hook to run. Otherwise everything; when a step is an external database
// restored by hand, plan->held_post says why the post-hooks wait and how to run
// them (DX must not start before that database is back).
absl::Status TrimForRequest(const v1::RestoreRequest& request,
                            RestorePlan* plan);

// `dxbackup restore SET --post-hooks-only` with the flags of `request` that
// decide which hooks a restore runs (target, destinations, clone).
std::string PostHooksOnlyCommand(const v1::RestoreRequest& request);
// `dxbackup restore SET` with those flags of `request`.
std::string RestoreCommandLine(const v1::RestoreRequest& request);

// InvalidArgument when `database_to` is not a plain database name (it
// reaches pg_restore, and the configured password goes wherever it points).
absl::Status CheckRestoreRequest(const v1::RestoreRequest& request);
// FailedPrecondition unless the set is complete and not found corrupt.
absl::Status CheckRestorable(const v1::BackupSet& set);

absl::StatusOr<RestorePlan> PlanRestore(const RestoreInputs& inputs);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_RESTORE_PLAN_H_
