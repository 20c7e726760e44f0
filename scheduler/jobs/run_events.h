// RunEvents is the ordered log of what happened in one backup set or restore
// run, for the callers watching it. Publishing never blocks on a watcher;
// a watcher that joins late still reads from the first event.
//
//   RunEvents events;               // runner side
//   events.Publish(event);          // ... event.done() on the last one
//   size_t next = 0; v1::SetEvent e;
//   while (events.WaitNext(&next, &e)) Show(e);   // watcher side
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_JOBS_RUN_EVENTS_H_
#define DXBACKUP_SCHEDULER_JOBS_RUN_EVENTS_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "dxbackup/v1/admin.pb.h"

namespace dxbackup::scheduler {

class RunEvents {
 public:
  // An event with done() set closes the log; later events are dropped.
  void Publish(const v1::SetEvent& event) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    events_.push_back(event);
    if (event.done()) closed_ = true;
    cv_.notify_all();
  }

  // Publishes the closing event of a run over `set`.
  void Finish(const v1::BackupSet& set, bool ok, const std::string& message) {
    v1::SetEvent done;
    done.set_set_id(set.id());
    *done.mutable_set() = set;
    done.set_done(true);
    done.set_ok(ok);
    done.set_message(message);
    Publish(done);
  }

  // Waits for event number *next, copies it out and advances *next. Returns
  // false once the log is closed and every event has been read.
  bool WaitNext(size_t* next, v1::SetEvent* out) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return *next < events_.size() || closed_; });
    if (*next >= events_.size()) return false;
    *out = events_[(*next)++];
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::SetEvent> events_;
  bool closed_ = false;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_JOBS_RUN_EVENTS_H_
