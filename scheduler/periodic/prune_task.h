// PruneTask applies every policy's retention (Pruner::Prune) at each slot
// of the config's prune_schedule (default @hourly), then asks for the file
// index's (FileIndexRetention::RequestAll: a changed file_index_sets takes
// effect; the moves run on a thread of their own). The
// first slot is the first after the ticker starts: starting the scheduler does
// not prune. Runs on the ticker's thread.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_PRUNE_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_PRUNE_TASK_H_

#include "dxbackup/v1/config.pb.h"
#include "scheduler/periodic/file_index_retention.h"
#include "scheduler/periodic/periodic_task.h"
#include "scheduler/periodic/pruner.h"

namespace dxbackup::scheduler {

class PruneTask : public PeriodicTask {
 public:
  // `config`: prune_schedule; `pruner`: what prunes; `file_index`
  // (nullptr: none): moves older sets' rows. All must outlive the task.
  PruneTask(const v1::SchedulerConfig& config, Pruner* pruner,
            FileIndexRetention* file_index = nullptr)
      : config_(config), pruner_(pruner), file_index_(file_index) {}

  const char* name() const override { return "prune"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time) const override { return next_; }

 private:
  const v1::SchedulerConfig& config_;
  Pruner* pruner_;
  FileIndexRetention* file_index_;
  absl::Time next_ = absl::InfinitePast();  // InfinitePast: not started
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_PRUNE_TASK_H_
