// PeriodicTask is one kind of work the scheduler does on its own, on a
// schedule: the Ticker (ticker.h) calls Run(now) on every tick and waits
// until the earliest NextDue(now) of its tasks. A task decides itself what
// is due at `now` and does nothing when nothing is (a tick may come early:
// another task's time, or a Wake()).
//
// Run() and NextDue() are called from the ticker's thread only, one task at
// a time; a task that other threads also touch guards its own state. Run()
// should return soon: long work goes to a thread of its own, so that the
// other tasks keep their times.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_PERIODIC_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_PERIODIC_TASK_H_

#include "absl/time/time.h"

namespace dxbackup::scheduler {

class PeriodicTask {
 public:
  virtual ~PeriodicTask() = default;

  // For logs: what the task does, in a few words.
  virtual const char* name() const = 0;
  // Does the work due at `now` (wall time), if any.
  virtual void Run(absl::Time now) = 0;
  // When the task next has work, asked after Run(now); InfiniteFuture():
  // none foreseen (the ticker still looks again within its longest wait).
  virtual absl::Time NextDue(absl::Time now) const = 0;
};

// A fixed interval for tasks that run every so often: Due() is true at the
// first call and then once `interval` has passed since the last time it
// was (or when the wall clock went back). Not thread-safe.
class Every {
 public:
  explicit Every(absl::Duration interval) : interval_(interval) {}

  bool Due(absl::Time now) {
    if (now < last_ + interval_ && now >= last_) return false;
    last_ = now;
    return true;
  }
  absl::Time Next() const { return last_ + interval_; }

 private:
  absl::Duration interval_;
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_PERIODIC_TASK_H_
