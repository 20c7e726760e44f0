// PolicyQueue decides when policy runs start. Each plan entry is one
// deployment (namespace and release) under one policy, with its schedule and
// the last slot it took. On each Tick(now):
//
// - an entry whose schedule had a slot since its last one is queued, once:
//   after downtime, however many slots were missed, it runs once;
// - queued runs start while the limits allow (at most max_sets at once in
//   all, at most max_sets_per_namespace in one namespace; 0 is no limit),
//   taking namespaces in turn so that a busy namespace cannot starve the
//   others, and never two runs of one deployment at once.
//
// Pure and driven by the caller's clock, so tests need no sleeps.
// Not thread-safe: the owner serialises calls.
#ifndef DXBACKUP_SCHEDULER_POLICY_POLICY_QUEUE_H_
#define DXBACKUP_SCHEDULER_POLICY_POLICY_QUEUE_H_

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "scheduler/policy/cron_schedule.h"

namespace dxbackup::scheduler {

struct PlanKey {
  std::string policy;
  std::string namespace_;
  std::string release;

  std::string Deployment() const { return namespace_ + "/" + release; }
  std::string ToString() const { return policy + ":" + Deployment(); }
  bool operator<(const PlanKey& o) const {
    return std::tie(policy, namespace_, release) <
           std::tie(o.policy, o.namespace_, o.release);
  }
  bool operator==(const PlanKey& o) const {
    return std::tie(policy, namespace_, release) ==
           std::tie(o.policy, o.namespace_, o.release);
  }
};

struct PlanEntry {
  PlanKey key;
  CronSchedule schedule;
  // The last slot this entry took; nullopt for a new entry, which then
  // waits for its next slot rather than running at once.
  std::optional<absl::Time> last_slot;
};

class PolicyQueue {
 public:
  struct Limits {
    int max_sets = 0;
    int max_sets_per_namespace = 0;
  };
  struct TickResult {
    std::vector<PlanKey> start;  // now marked running
    std::vector<std::pair<PlanKey, absl::Time>> slots_taken;  // to persist
    // Queued runs of `waiting` deployments, left queued.
    std::vector<PlanKey> waiting;
  };

  explicit PolicyQueue(Limits limits) : limits_(limits) {}

  // Replaces the plan. Entries that disappear are dropped from the queue;
  // runs already started finish normally.
  void SetPlan(std::vector<PlanEntry> plan, absl::Time now);
  // Queues a run of `key` now, outside its schedule (no effect if queued).
  void Enqueue(const PlanKey& key);
  // Queues what came due and starts what the limits allow, but no run of
  // a deployment in `waiting` (their agents are awaited): those stay
  // queued, taking no place, and the runs behind them start instead.
  TickResult Tick(absl::Time now, const std::set<std::string>& waiting = {});
  // A started run ended (or could not start); its deployment is free.
  void Finished(const PlanKey& key);
  // A started run that could not start yet after all (the catalog's
  // fleet-wide limits refused it: other schedulers' sets run): it goes
  // back to the front of its namespace's queue, its slot still taken, and
  // starts at a later Tick.
  void Requeue(const PlanKey& key);
  // Takes `key` out of the queue (a slot another scheduler took); a run
  // of it already started is left alone (Finished ends that).
  void Drop(const PlanKey& key);

  // When the next slot of any entry comes; InfiniteFuture() if none.
  absl::Time NextSlot(absl::Time now) const;
  std::optional<absl::Time> NextSlotOf(const PlanKey& key,
                                       absl::Time now) const;
  bool IsQueued(const PlanKey& key) const;
  bool IsRunning(const PlanKey& key) const { return running_.count(key) != 0; }
  size_t queued() const;
  size_t running() const { return running_.size(); }

 private:
  bool CanStart(const PlanKey& key) const;

  Limits limits_;
  std::map<PlanKey, PlanEntry> plan_;
  std::map<std::string, std::deque<PlanKey>> queued_;  // by namespace
  std::set<PlanKey> running_;
  std::map<std::string, int> running_per_namespace_;
  std::set<std::string> running_deployments_;
  std::string last_served_namespace_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POLICY_POLICY_QUEUE_H_
