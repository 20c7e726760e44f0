// OwedPostHooksTask runs the post-hooks that a scheduler which stopped
// inside a set's quiesce window owed its deployment: the set's pre-hooks
// had stopped DX (or began to) and nothing started it again. A scheduler
// restarting on its catalog, or a standby taking over from one that died,
// finds those sets (SetsOwingPostHooks, before it fails the sets left
// running) and hands them to this task, which runs the deployment's
// post-hooks once an agent of each post-hook's component is connected, or
// with those that are once `wait` has passed since the start. Each set's
// reason then says what was run, or that DX must be started by hand.
//
// Thread-safe; Run/NextDue from the ticker's thread. The hooks run on a
// thread per set, joined by Stop() (the board failing its jobs ends them).
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

// The running sets whose pre-hooks started and whose post-hooks did not
// all succeed: call it before they are failed (FailUnfinished).
absl::StatusOr<std::vector<v1::BackupSet>> SetsOwingPostHooks(SetCatalog* sets,
                                                              JobCatalog* jobs);

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

  OwedPostHooksTask(const Parts& parts, std::vector<v1::BackupSet> owed,
                    absl::Time since, absl::Duration wait = kWait);
  ~OwedPostHooksTask() override { Stop(); }

  const char* name() const override { return "owed post-hooks"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time now) const override;
  // Waits for the hooks running now; nothing more starts.
  void Stop();

 private:
  void RunHooks(const v1::BackupSet& set, std::vector<std::string> missing);

  const Parts parts_;
  const absl::Time deadline_;
  mutable std::mutex mu_;
  std::vector<v1::BackupSet> owed_;  // not started yet
  std::vector<std::thread> running_;
  bool stopped_ = false;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_OWED_POST_HOOKS_TASK_H_
