// BackupSetRunner captures backup sets. A set of a deployment (namespace and
// release) is every volume of every agent connected for it plus every
// database configured for it, captured in parallel, inside the quiesce
// window its hooks make: every pre-hook, then the captures, then every
// post-hook (which runs even after a failure). The set is `complete`
// only when every member is stored and checked; otherwise `failed`, with a
// reason naming each failed member. Members that were stored stay recorded.
//
//   auto run = runner.Start(request);   // returns once the set started
//   while (run->events->WaitNext(&i, &event)) ...
//
// Start reads what the set's plan needs (the deployment's agents, its
// earlier sets, the base's artifacts, and the databases of each
// `discover` entry's server: a connection each, which can take up to
// libpq's 15 s connect timeout when a server does not answer), plans it
// with PlanBackupSet,
// records the set and its jobs, and hands the plan to a QuiesceWindow on
// a thread of its own.
//
// Thread-safe. The destructor fails unfinished jobs and joins set threads.
#ifndef DXBACKUP_SCHEDULER_RUNS_BACKUP_SET_RUNNER_H_
#define DXBACKUP_SCHEDULER_RUNS_BACKUP_SET_RUNNER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/jobs/run_events.h"
#include "scheduler/metrics/metrics.h"
#include "scheduler/notify/notice_sink.h"
#include "scheduler/runs/backup_plan.h"
#include "scheduler/runs/run_cancels.h"
#include "scheduler/runs/run_threads.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

struct StartedRun {
  std::string id;
  std::shared_ptr<RunEvents> events;
};

class BackupSetRunner {
 public:
  // What the runner uses; all must outlive it.
  struct Parts {
    // Deployments (databases, hooks) and quiesce_limit_seconds.
    const v1::SchedulerConfig* config;
    // The sets and their artifacts, created and recorded.
    SetCatalog* sets;
    // Where database dumps are written (and failed ones removed).
    ArtifactStore* store;
    // What database dumps are encrypted for.
    const crypto::KeyRing* keys;
    // The deployment's agents, and where their jobs are sent.
    AgentRegistry* registry;
    // The members' jobs.
    JobBoard* board;
    // Set ids and times, and the wait for a reconnecting agent's hooks.
    const common::TimeSource* time;
    // Ended sets counted; nullptr: nothing counted.
    SchedulerMetrics* metrics = nullptr;
    // Held from choosing a set's base until the set is recorded (running,
    // which keeps its base), and by whatever removes sets (Pruner), so
    // that no base is removed in between; nullptr: none shared.
    std::mutex* set_removal = nullptr;
    // Where each set is listed while it runs, to be cancelled; nullptr:
    // sets cannot be cancelled.
    RunCancels* cancels = nullptr;
    // Told when a set fails, and when one completes after a failure;
    // nullptr: nobody.
    NoticeSink* notices = nullptr;
  };
  explicit BackupSetRunner(const Parts& parts);
  ~BackupSetRunner();

  using SetDoneFn = std::function<void(const v1::BackupSet&)>;

  // Creates the set and its jobs and starts capturing; `on_done` (if any)
  // is called on the set's thread with its final state. FailedPrecondition
  // when the deployment has nothing to back up or a set of it is running.
  // With `within`, the set starts only while the catalog counts fewer
  // running sets than those limits (SetCatalog::CreateSetWithin):
  // ResourceExhausted otherwise, having started nothing.
  absl::StatusOr<StartedRun> Start(const v1::BackupRequest& request,
                                   SetDoneFn on_done = nullptr,
                                   const SetLimits* within = nullptr);

 private:
  // `cancel`: the set's (RunCancels), never null.
  v1::BackupSet Run(BackupPlan plan, std::shared_ptr<RunEvents> events,
                    std::shared_ptr<common::Cancellation> cancel);
  // A member the scheduler captures itself (a database, the Kubernetes
  // objects of `set`'s deployment), stored and ended on the board.
  void CaptureOwn(const BackupMember& member, const v1::BackupSet& set);
  // Tells `set`'s end to the notices (SetEndNotice), with the set of its
  // deployment before it.
  void NotifyEnd(const v1::BackupSet& set);
  // A scale_to_one member: the scale-down records the replicas it found
  // in *replicas_before, the scale-up puts them back.
  void Scale(const BackupMember& member, const v1::BackupSet& set,
             std::atomic<int>* replicas_before);

  Parts parts_;
  std::mutex mu_;
  std::set<std::string> running_deployments_;
  RunThreads threads_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_BACKUP_SET_RUNNER_H_
