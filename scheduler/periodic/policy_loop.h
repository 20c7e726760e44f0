// PolicyLoop is the scheduler's unattended work: a Ticker (waiting through
// its TimeSource) with one PeriodicTask per kind of work, each in a
// file of its own:
//
//   PolicySlots      policies' slots: start the runs the queue allows
//   LivenessTask     close agents that missed their heartbeats
//   ForgetGoneTask   forget agents gone longer than agent_forget_after
//   StalledRunsTask  fail jobs that report no progress
//   PruneTask        retention on prune_schedule, then the file index's
//   VerifyTask       the policies' scheduled verification
//   StaleTask        tell of deployments past their policy's RPO
//   DrillTask        the policies' scheduled restore drills
//   OwedPostHooksTask  post-hooks a stopped scheduler owed (at start)
//
// and AfterPolicySet (copy, then prune the group and move its older sets'
// file index) after each policy set.
// RunNow/Follow/Describe serve the admin API. Thread-safe.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_POLICY_LOOP_H_
#define DXBACKUP_SCHEDULER_PERIODIC_POLICY_LOOP_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/schedule_slot_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/periodic/after_policy_set.h"
#include "scheduler/periodic/drill_task.h"
#include "scheduler/periodic/file_index_retention.h"
#include "scheduler/periodic/forget_gone_task.h"
#include "scheduler/periodic/liveness_task.h"
#include "scheduler/periodic/owed_post_hooks_task.h"
#include "scheduler/periodic/policy_slots.h"
#include "scheduler/periodic/policy_verifier.h"
#include "scheduler/periodic/prune_task.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/periodic/run_starter.h"
#include "scheduler/periodic/stale_task.h"
#include "scheduler/periodic/stalled_runs_task.h"
#include "scheduler/periodic/ticker.h"
#include "scheduler/periodic/verify_task.h"
#include "scheduler/runs/backup_set_runner.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

class PolicyLoop {
 public:
  // What the loop and its tasks use; all must outlive the loop.
  struct Parts {
    // Policies, deployments, limits and the tasks' settings.
    const v1::SchedulerConfig* config;
    // Sets verified (PolicyVerifier), copied and noted (AfterPolicySet).
    SetCatalog* sets;
    // The policies' and verifications' slots, persisted.
    ScheduleSlotCatalog* slots;
    // Artifacts read back by verification and copies.
    ArtifactStore* store;
    // The scheduler's keys, for deep verifications of encrypted sets.
    const crypto::KeyRing* keys;
    // Agents: their deployments, liveness, forgetting.
    AgentRegistry* registry;
    // Jobs failed when stalled.
    JobBoard* board;
    // How the loop reads the time and waits for it.
    const common::TimeSource* time;
    // Starts the policies' runs.
    BackupSetRunner* backups;
    // Retention, on the prune schedule and after each policy set.
    Pruner* pruner;
    // Then the file index's (older sets' rows to the store); nullptr:
    // every set keeps its rows.
    FileIndexRetention* file_index = nullptr;
    // The policies' copy_to.s3 buckets, by policy name.
    const CopyStores* copy_stores;
    // Told of stale deployments and corrupt sets; nullptr: nobody.
    NoticeSink* notices = nullptr;
    // Runs the policies' scheduled drills; nullptr: none run.
    SetDriller* driller = nullptr;
    // The sets verified are leased there, so that retention does not
    // remove one under its check; nullptr: none.
    SetLeases* leases = nullptr;
    // Sets a stopped scheduler left inside their quiesce window
    // (SetsOwingPostHooks): their deployments' post-hooks are run.
    std::vector<OwedPostHooks> owed_post_hooks;
    // Policy runs admitted under the limits as the catalog counts them
    // (SetCatalog::CreateSetWithin), for replicas sharing a catalog; a
    // run refused waits queued. Off, the policy queue's own count of this
    // scheduler's runs is the limit (one active scheduler): a set's row
    // left SET_RUNNING by a write that failed cannot hold runs back.
    bool limits_in_catalog = false;
    // The deployments this scheduler looks after (deployment_scope.h):
    // their policy runs, stale notices, drills and gone agents. Empty:
    // every one, and Start finishes every interrupted removal; otherwise
    // what another scheduler left is ended as each deployment is taken
    // over (replicas/deployment_takeover.h), which owes post-hooks
    // through Owe().
    DeploymentScope scope;
    // More tasks for the ticker (a replica's orphan adoption); they must
    // outlive the loop.
    std::vector<PeriodicTask*> more_tasks;
  };
  explicit PolicyLoop(const Parts& parts);
  ~PolicyLoop();

  // Loads the persisted slots, finishes interrupted removals and starts
  // ticking.
  absl::Status Start();
  // Stops ticking, releases Follow() and waits for verifications. Idempotent.
  void Stop();

  using Ticket = PolicySlots::Ticket;
  // Queues a run of `policy` for every deployment it covers now.
  absl::StatusOr<Ticket> RunNow(const std::string& policy);
  // Calls `on_set` with each ticket key's next finished set, as each ends;
  // returns when all have (or the loop stops). `on_set` returning false
  // stops the wait early.
  void Follow(const Ticket& ticket,
              const std::function<bool(const v1::BackupSet&)>& on_set);

  v1::ListPoliciesResponse Describe();

  // Post-hooks owed by sets of a deployment taken over at `since`
  // (OwedPostHooksTask::Owe); run once its agents are back. Thread-safe.
  void Owe(std::vector<OwedPostHooks> owed, absl::Time since);
  // Each policy's deployments now, also those outside the scope.
  std::vector<PlanKey> CoveredEverywhere() { return slots_.Covered(true); }

 private:
  absl::Time Now() const;

  const bool scoped_;  // Parts::scope given

  const common::TimeSource* time_;
  Pruner* pruner_;
  BackupRunStarter starter_;
  AfterPolicySet after_set_;
  PolicyVerifier verifier_;
  Ticker ticker_;
  PolicySlots slots_;
  LivenessTask liveness_;
  ForgetGoneTask forget_gone_;
  StalledRunsTask stalled_runs_;
  PruneTask prune_;
  VerifyTask verify_;
  std::optional<StaleTask> stale_;        // with notices only
  std::optional<PolicyDriller> driller_;  // with a driller only
  std::optional<DrillTask> drill_;
  std::optional<OwedPostHooksTask> owed_;  // with sets that owe them only
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_POLICY_LOOP_H_
