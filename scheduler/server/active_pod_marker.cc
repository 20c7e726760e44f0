#include "scheduler/server/active_pod_marker.h"

#include <chrono>

#include "common/log.h"
#include "scheduler/kubernetes/active_pod_label.h"

namespace dxbackup::scheduler {

ActivePodMarker::ActivePodMarker(MarkFn mark,
                                 std::function<bool()> still_active,
                                 const common::TimeSource* time)
    : mark_(std::move(mark)),
      still_active_(std::move(still_active)),
      time_(time),
      thread_([this] { Mark(); }) {}

ActivePodMarker::~ActivePodMarker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

void ActivePodMarker::Mark() {
  std::unique_lock<std::mutex> lock(mu_);
  bool told = false;
  while (!stop_) {
    lock.unlock();
    absl::Status marked = absl::OkStatus();
    const bool active = still_active_();
    if (active) marked = mark_(still_active_);
    lock.lock();
    std::chrono::seconds next = kRecheck;
    if (!active) {
      next = kInactive;  // the watchdog decides, soon
    } else if (!marked.ok()) {
      DXLOG(ERROR) << "cannot label this pod the active scheduler's ("
                   << marked.message()
                   << "); the Service reaches no scheduler until it is: "
                      "trying again in "
                   << kRetry.count() << " s";
      next = kRetry;
      told = false;
    } else if (!told) {
      DXLOG(INFO) << "labelled this pod " << ActivePodLabel::kLabel
                  << "=true: the Service sends agents and callers here";
      told = true;
    }
    time_->WaitFor(lock, stop_cv_, next, [this] { return stop_; });
  }
}

}  // namespace dxbackup::scheduler
