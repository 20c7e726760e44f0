// OwedPostHooksTask runs the post-hooks that a scheduler which stopped
// inside a set's quiesce window owed its deployment: the set's pre-hooks
// had stopped DX (or began to) on some pods and nothing started it again.
// A scheduler restarting on its catalog, or a standby taking over from one
// that died, finds those sets (SetsOwingPostHooks) and hands them to this
// task, which runs the deployment's post-hooks on exactly those pods once
// their agents are all connected, or on those that are once `wait` has
// passed since the start. Each set's reason then says what ran, or on
// which pods DX must be started by hand; that note also marks the debt
// paid, so that a scheduler stopping again before it is finds it again.
//
// Thread-safe; Run/NextDue from the ticker's thread. The hooks run on a
// thread per set; Stop() ends their jobs and joins them.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_OWED_POST_HOOKS_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_OWED_POST_HOOKS_TASK_H_

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/job_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/periodic/periodic_task.h"

namespace dxbackup::scheduler {

// The reason FailUnfinished gives the sets a stopped scheduler left.
inline constexpr char kStoppedWhileRunning[] =
    "the scheduler stopped while the set ran";
// How far back a set failed with kStoppedWhileRunning may still owe its
// post-hooks, when a scheduler starts or a replica takes a deployment
// over (SetsOwingPostHooks' `since_unix` is now less this).
inline constexpr int64_t kOwedPostHooksWithinSeconds = 2 * 86400;
// What a paid debt adds to the set's reason.
inline constexpr char kOwedPostHooksRan[] =
    "; the post-hooks it owed were run after the scheduler came back: ";

// A set that owes post-hooks, and the pods its pre-hooks began on.
struct OwedPostHooks {
  v1::BackupSet set;
  std::vector<std::string> pods;
};

// The sets whose pre-hooks began and whose post-hooks did not all succeed:
// those running (call it before FailUnfinished), and those failed with
// kStoppedWhileRunning since `since_unix` whose debt is not noted as paid;
// of every deployment, or only of `namespace_`/`release` when given.
absl::StatusOr<std::vector<OwedPostHooks>> SetsOwingPostHooks(
    SetCatalog* sets, JobCatalog* jobs, int64_t since_unix,
    const std::string& namespace_ = "", const std::string& release = "");

class OwedPostHooksTask : public PeriodicTask {
 public:
  struct Parts {
    const v1::SchedulerConfig* config;  // the deployments' hooks
    AgentRegistry* registry;
    JobBoard* board;
    SetCatalog* sets;  // the sets' reasons
    const common::TimeSource* time;
  };
  static constexpr absl::Duration kWait = absl::Minutes(10);

  OwedPostHooksTask(const Parts& parts, std::vector<OwedPostHooks> owed,
                    absl::Time since, absl::Duration wait = kWait);
  ~OwedPostHooksTask() override { Stop(); }

  // More debts, found when this scheduler took their deployment over at
  // `since` (a replica taking over another's): each waits for its agents
  // until since + the task's wait. The caller wakes the ticker.
  void Owe(std::vector<OwedPostHooks> more, absl::Time since);

  const char* name() const override { return "owed post-hooks"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time now) const override;
  // Ends the hooks' jobs running now and waits for them; nothing more
  // starts (a debt left unpaid is found again at the next start).
  void Stop();

 private:
  void RunHooks(const OwedPostHooks& owed, std::vector<std::string> missing);

  struct Debt {
    OwedPostHooks owed;
    absl::Time deadline;  // then the hooks run on the agents that are back
  };

  const Parts parts_;
  const absl::Duration wait_;
  mutable std::mutex mu_;
  std::vector<Debt> owed_;  // not started yet
  std::vector<std::thread> running_;
  std::vector<std::string> jobs_;  // on the board, ended by Stop()
  bool stopped_ = false;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_OWED_POST_HOOKS_TASK_H_
