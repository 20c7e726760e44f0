// PolicyLoop runs the configured policies unattended. On its own thread it
// matches policies to deployments (those in the config and those agents
// registered for), feeds the PolicyQueue the clock, starts the runs the
// queue allows, records each slot taken (so a restart neither repeats nor
// forgets a run), prunes a group after each of its sets and on the prune
// schedule, copies each complete set to the policy's copy_to directory (with
// the copy's own retention), starts the policies' scheduled verification
// (PolicyVerifier), and closes agents that missed their heartbeats.
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_POLICY_LOOP_H_
#define DXBACKUP_SCHEDULER_PERIODIC_POLICY_LOOP_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"
#include "scheduler/runs/backup_set_runner.h"
#include "scheduler/policy/policy_queue.h"
#include "scheduler/periodic/policy_verifier.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/scheduler_state.h"
#include "scheduler/sets/set_copier.h"

namespace dxbackup::scheduler {

class PolicyLoop {
 public:
  // `backups` and `pruner` must outlive the loop.
  PolicyLoop(SchedulerState state, BackupSetRunner* backups, Pruner* pruner);
  ~PolicyLoop();

  absl::Status Start();
  void Stop();

  struct Ticket {
    std::vector<PlanKey> keys;
    uint64_t generation;
  };
  // Queues a run of `policy` for every deployment it covers now.
  absl::StatusOr<Ticket> RunNow(const std::string& policy);
  // Calls `on_set` with each ticket key's next finished set, as each ends;
  // returns when all have (or the loop stops). `on_set` returning false
  // stops the wait early.
  void Follow(const Ticket& ticket,
              const std::function<bool(const v1::BackupSet&)>& on_set);

  v1::ListPoliciesResponse Describe();

 private:
  void Loop();
  void TickOnce();
  // Policies matched to deployments (only `only`, if given). mu_ held.
  std::vector<PlanEntry> BuildPlan(absl::Time now, const std::string& only);
  const v1::Policy* FindPolicy(const std::string& name) const;
  void StartRun(const PlanKey& key);
  void RunEnded(const PlanKey& key, const v1::BackupSet& set);
  absl::Time Now() const;

  SchedulerState state_;
  BackupSetRunner* backups_;
  Pruner* pruner_;
  SetCopier copier_;
  PolicyVerifier verifier_;

  std::mutex mu_;
  std::condition_variable cv_;
  PolicyQueue queue_;
  std::map<PlanKey, absl::Time> slots_;  // last slot taken, as persisted
  struct Ended {
    uint64_t generation = 0;
    v1::BackupSet set;
  };
  std::map<PlanKey, Ended> ended_;
  uint64_t generation_ = 0;
  absl::Time next_prune_ = absl::InfinitePast();
  bool stopping_ = false;
  bool wake_ = false;
  std::thread thread_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_POLICY_LOOP_H_
