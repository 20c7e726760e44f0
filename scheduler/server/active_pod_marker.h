// ActivePodMarker labels this scheduler's pod the active one
// (ActivePodLabel::MarkActive) from a thread of its own, trying again every
// 10 s until the Kubernetes API takes it: the API may be away for a moment
// when a takeover happens, and the scheduler serves meanwhile (agents that
// reach it some other way are served). Each failure is logged with what to
// grant or fix.
//
// Created once this scheduler is active; destroying it stops the tries.
// The label it manages must outlive it.
#ifndef DXBACKUP_SCHEDULER_SERVER_ACTIVE_POD_MARKER_H_
#define DXBACKUP_SCHEDULER_SERVER_ACTIVE_POD_MARKER_H_

#include <condition_variable>
#include <mutex>
#include <thread>

#include "scheduler/kubernetes/active_pod_label.h"

namespace dxbackup::scheduler {

class ActivePodMarker {
 public:
  explicit ActivePodMarker(ActivePodLabel* label);
  ~ActivePodMarker();
  ActivePodMarker(const ActivePodMarker&) = delete;
  ActivePodMarker& operator=(const ActivePodMarker&) = delete;

 private:
  void Mark();

  ActivePodLabel* label_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SERVER_ACTIVE_POD_MARKER_H_
