#include "scheduler/server/active_pod_marker.h"

#include <chrono>

#include "common/log.h"

namespace dxbackup::scheduler {

ActivePodMarker::ActivePodMarker(ActivePodLabel* label,
                                 std::function<bool()> still_active)
    : label_(label),
      still_active_(std::move(still_active)),
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
    if (active) marked = label_->MarkActive(still_active_);
    lock.lock();
    auto next = std::chrono::seconds(30);
    if (!active) {
      next = std::chrono::seconds(1);  // the watchdog decides, soon
    } else if (!marked.ok()) {
      DXLOG(ERROR) << "cannot label this pod the active scheduler's ("
                   << marked.message()
                   << "); the Service reaches no scheduler until it is: "
                      "trying again in 10 s";
      next = std::chrono::seconds(10);
      told = false;
    } else if (!told) {
      DXLOG(INFO) << "labelled this pod " << ActivePodLabel::kLabel
                  << "=true: the Service sends agents and callers here";
      told = true;
    }
    stop_cv_.wait_for(lock, next, [this] { return stop_; });
  }
}

}  // namespace dxbackup::scheduler
