// PolicySlots is the periodic task that starts policy runs: on each tick it
// matches policies to deployments (those in the config and those agents
// registered for), feeds the PolicyQueue the time, starts through a
// RunStarter the runs the queue allows, and claims each run's slot in the
// catalog as the run starts (so a restart, or another scheduler sharing the
// catalog, neither repeats nor forgets a run). RunNow() queues
// a policy outside its schedule (`backup --policy`); Follow() waits for the
// sets that run ends.
//
// When a run ends its deployment is free again: `wake` is called (so that
// the ticker starts what waited), then `on_end` with the policy's set.
// Thread-safe; Run/NextDue from the ticker's thread. Whatever `wake` and
// `on_end` reach must outlive it.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_POLICY_SLOTS_H_
#define DXBACKUP_SCHEDULER_PERIODIC_POLICY_SLOTS_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/schedule_slot_catalog.h"
#include "scheduler/periodic/periodic_task.h"
#include "scheduler/periodic/run_starter.h"
#include "scheduler/policy/policy_queue.h"
#include "scheduler/replicas/deployment_scope.h"

namespace dxbackup::scheduler {

class PolicySlots : public PeriodicTask {
 public:
  using EndFn = std::function<void(const v1::Policy&, const PlanKey&,
                                   const v1::BackupSet&)>;
  // `config`: the policies, deployments and run limits; `slots`: the slots
  // taken, persisted; `registry`: the deployments agents registered for;
  // `starter`: starts the runs. All must outlive the task.
  PolicySlots(const v1::SchedulerConfig& config, ScheduleSlotCatalog* slots,
              AgentRegistry* registry, RunStarter* starter,
              std::function<void()> wake, EndFn on_end);

  // How soon a run the catalog's fleet-wide limits refused is tried again.
  static constexpr absl::Duration kLimitedRetry = absl::Seconds(5);
  // A scheduler that starts (a restart, a takeover) gives the agents the
  // catalog knows this long to come back before a run of their deployment
  // starts without them: an agent backs off at most 30 s between tries,
  // and in Kubernetes the Service turns to a new active replica only once
  // its readiness probe passed.
  static constexpr absl::Duration kReconnectGrace = absl::Seconds(90);
  // Agents not seen for longer are not waited for (pods gone for good),
  // unless nobody saw them disconnect: the scheduler before this one was
  // killed (AgentRegistry::DeploymentsAwaitingAgents).
  static constexpr absl::Duration kExpectAgentsSeenWithin = absl::Hours(1);

  // Limits the runs to the deployments in `scope`: a replica runs only
  // those it owns (deployment_scope.h); RunNow, Describe and Covered see
  // only those too. Before Load.
  void LimitTo(DeploymentScope scope) { scope_ = std::move(scope); }

  // Reads the slots taken from the catalog.
  absl::Status Load();
  // Releases Follow() calls; no more runs start.
  void Stop();

  const char* name() const override { return "policy slots"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time now) const override;

  struct Ticket {
    std::vector<PlanKey> keys;
    uint64_t generation;
  };
  // Queues a run of `policy` for every deployment it covers now; it starts
  // at the next tick (the caller wakes the ticker).
  absl::StatusOr<Ticket> RunNow(const std::string& policy);
  // Calls `on_set` with each ticket key's next finished set, as each ends;
  // returns when all have (or Stop()). `on_set` returning false stops the
  // wait early.
  void Follow(const Ticket& ticket,
              const std::function<bool(const v1::BackupSet&)>& on_set);
  // Each policy with the deployments it covers, next run, last slot, state.
  v1::ListPoliciesResponse Describe(absl::Time now);
  // Each policy's deployments now (configured, or with agents that fit),
  // within the scope unless `everywhere`.
  std::vector<PlanKey> Covered(bool everywhere = false);

 private:
  // Policies matched to deployments (only `only`, if given) within the
  // scope (unless `everywhere`). mu_ held.
  std::vector<PlanEntry> BuildPlan(const std::string& only,
                                   bool everywhere = false);
  const v1::Policy* FindPolicy(const std::string& name) const;
  // Takes the catalog's slots of the entries this scheduler has none of;
  // whether it took any. mu_ held.
  absl::StatusOr<bool> AdoptStoredSlotsLocked();
  // Claims in the catalog the slot that queued `key`'s run, which the
  // queue has just started; false (the run is over) when another
  // scheduler claimed it first. True for a run RunNow queued.
  // `*requested_run`: the run is one RunNow asked for.
  bool ClaimSlotOf(const PlanKey& key, bool* requested_run);
  void StartRun(const PlanKey& key, bool requested);
  void RunEnded(const PlanKey& key, const v1::BackupSet& set);

  const v1::SchedulerConfig& config_;
  ScheduleSlotCatalog* slot_catalog_;
  AgentRegistry* registry_;
  RunStarter* starter_;
  std::function<void()> wake_;
  EndFn on_end_;
  DeploymentScope scope_;  // empty: every deployment

  mutable std::mutex mu_;
  std::condition_variable ended_cv_;
  PolicyQueue queue_;
  // The last slot taken (queued); in the catalog once its run started.
  std::map<PlanKey, absl::Time> slots_;
  // Slots whose runs wait in the queue, or are being claimed, not claimed
  // in the catalog yet.
  std::map<PlanKey, absl::Time> unclaimed_;
  // Until when runs wait for their agents (set by the first tick).
  absl::Time hold_until_ = absl::InfinitePast();
  // The deployments planned so far, and until when those planned after
  // the first tick (taken over) wait for their agents.
  std::set<std::string> planned_;
  std::map<std::string, absl::Time> grace_until_;
  // Entries whose slot was looked up in the catalog (AdoptStoredSlots).
  std::set<PlanKey> looked_up_;
  std::set<PlanKey> held_;  // runs that waited for agents, each logged once
  // Runs RunNow queued and that have not started.
  std::set<PlanKey> requested_;
  // The time of the last tick; when runs the limits refused are retried
  // (InfiniteFuture: none waits); those runs, each logged once.
  absl::Time last_tick_ = absl::InfinitePast();
  absl::Time retry_at_ = absl::InfiniteFuture();
  std::set<PlanKey> limited_;
  struct Ended {
    uint64_t generation = 0;
    v1::BackupSet set;
  };
  std::map<PlanKey, Ended> ended_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_POLICY_SLOTS_H_
