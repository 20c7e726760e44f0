// Ticker runs registered PeriodicTasks on a thread of its own: it ticks
// (calls every task's Run(now), in the order registered), then waits
// through its TimeSource until the earliest task's NextDue, at most
// kLongestWait (so that a wall-clock jump is noticed), or until Wake().
// Waiting through the TimeSource lets a test drive it on simulated time;
// time moved by at least kLongestWait always causes a tick at the new time:
//
//   FakeTimeSource time;
//   Ticker ticker(&time);
//   ticker.Register(&task);
//   ticker.Start();
//   time.AwaitWaiters(1);                            // first tick done
//   time.AwaitWaiters(1, time.Advance(seconds(5)));  // the next one too
//
// Tasks are registered before Start() and must outlive the ticker (or
// Stop()). Start/Stop from one thread; Wake() from any.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_TICKER_H_
#define DXBACKUP_SCHEDULER_PERIODIC_TICKER_H_

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/time_source.h"
#include "scheduler/periodic/periodic_task.h"

namespace dxbackup::scheduler {

class Ticker {
 public:
  static constexpr absl::Duration kLongestWait = absl::Seconds(5);

  // `time` must outlive the ticker.
  explicit Ticker(const common::TimeSource* time) : time_(time) {}
  ~Ticker() { Stop(); }

  void Register(PeriodicTask* task) { tasks_.push_back(task); }
  void Start();
  // Ends the wait and joins the thread (after a tick that is running).
  // Idempotent.
  void Stop();
  // Ticks again at once (work came that a task should look at).
  void Wake();

 private:
  void Loop();

  const common::TimeSource* time_;
  std::vector<PeriodicTask*> tasks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_TICKER_H_
