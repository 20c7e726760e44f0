// RunCancels knows the runs going on now — backup sets and restores, by
// their ids — each with the Cancellation its quiesce window listens to
// (WindowWork::cancel), so that `dxbackup cancel ID` can stop one: the
// work not done yet fails as CANCELLED, hooks already begun finish, and
// the post-hooks still run (QuiesceWindow).
//
//   std::shared_ptr<common::Cancellation> cancel = runs.Add(set_id);
//   ... work.cancel = cancel.get(); window.Run(work); ...
//   runs.Remove(set_id);
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_RUNS_RUN_CANCELS_H_
#define DXBACKUP_SCHEDULER_RUNS_RUN_CANCELS_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "common/cancellation.h"

namespace dxbackup::scheduler {

class RunCancels {
 public:
  // Run `id` has started; returns its Cancellation. Adding an id that runs
  // already returns that run's.
  std::shared_ptr<common::Cancellation> Add(const std::string& id);
  // Run `id` has ended: it can no longer be cancelled.
  void Remove(const std::string& id);
  // Cancels run `id`, saying `why`; NotFound, saying so, when no run of
  // that id is going on (ended, or never started). Cancelling twice is
  // fine (the first reason stays).
  absl::Status Cancel(const std::string& id, const std::string& why);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<common::Cancellation>> runs_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_RUN_CANCELS_H_
