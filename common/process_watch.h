// ProcessWatch supervises a started Subprocess, for commands taken from the
// config (which may hang, or leave something running):
// - once the child itself exits, whatever it left running in its process
//   group is killed (a leftover holding its stdout or stderr open would
//   keep whoever reads them waiting for ever);
// - with a timeout, the child and its group are killed when it is up;
// - Kill(why) kills them from any thread;
// - made on a thread bound to a Cancellation (CancellationScope), the
//   child and its group are killed when that is cancelled, with its reason.
// After Wait() nothing is killed any more: the child is reaped, and its
// process id may be another's.
//
//   auto child = Subprocess::Start(spec);
//   ProcessWatch watch(child->get(), /*timeout_seconds=*/600, RealTime());
//   ... read its stdout ...
//   absl::StatusOr<int> code = watch.Wait();
//   if (!watch.killed().empty()) ... it was stopped, and why
//
// Thread-safe: Kill and killed from any thread; Wait from the owner's.
// `process` and `time` must outlive the watch, which must not move (its
// threads refer to it). The destructor kills a child never waited for and
// joins its threads (the caller's Subprocess then reaps it).
#ifndef DXBACKUP_COMMON_PROCESS_WATCH_H_
#define DXBACKUP_COMMON_PROCESS_WATCH_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "common/process.h"
#include "common/time_source.h"

namespace dxbackup::common {

class ProcessWatch {
 public:
  // timeout_seconds 0: no limit.
  ProcessWatch(Subprocess* process, int timeout_seconds,
               const TimeSource& time);
  ~ProcessWatch();
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  // Waits for the child to exit and reaps it (Subprocess::Wait).
  absl::StatusOr<int> Wait();
  // Kills the child and its group, unless it was reaped or killed before.
  void Kill(const std::string& why);
  // Why it was killed ("timed out after 600 s", ...); "" when it was not.
  std::string killed() const;

 private:
  // No more kills from the Cancellation; returns once none runs.
  void StopListening();

  Subprocess* process_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool exited_ = false;  // the child itself exited (not yet reaped)
  bool done_ = false;    // reaped, or about to be: never killed again
  std::string killed_;
  std::thread reaper_;              // waits for the exit, then kills the group
  std::thread watchdog_;            // the timeout
  Cancellation* cancel_ = nullptr;  // the thread's at construction
  uint64_t cancel_handle_ = 0;
};

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_PROCESS_WATCH_H_
