#include "scheduler/server/active_pod_marker.h"

#include <chrono>

#include "common/log.h"

namespace dxbackup::scheduler {

ActivePodMarker::ActivePodMarker(ActivePodLabel* label)
    : label_(label), thread_([this] { Mark(); }) {}

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
  while (!stop_) {
    lock.unlock();
    const absl::Status marked = label_->MarkActive();
    lock.lock();
    if (marked.ok()) {
      DXLOG(INFO) << "labelled this pod " << ActivePodLabel::kLabel
                  << "=true: the Service sends agents and callers here";
      return;
    }
    DXLOG(ERROR) << "cannot label this pod the active scheduler's ("
                 << marked.message()
                 << "); the Service reaches no scheduler until it is: "
                    "trying again in 10 s";
    stop_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return stop_; });
  }
}

}  // namespace dxbackup::scheduler
