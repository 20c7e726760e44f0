// ActivePodMarker labels this scheduler's pod the active one
// (ActivePodLabel::MarkActive) from a thread of its own, and keeps it so:
// it looks again every 30 s (a label taken off by hand, or by a scheduler
// active before this one that was frozen and woke up before it stopped,
// is put back), and after a failure every 10 s (the API may be away for a
// moment when a takeover happens; the scheduler serves meanwhile). Each
// failure is logged with what to grant or fix. It marks only while
// `still_active` says so (the lock confirmed lately), so that a scheduler
// frozen past its lock never takes the label from the one active now.
//
// Created once this scheduler is active; destroying it stops the tries.
// `mark` is ActivePodLabel::MarkActive (bound to the label, which must
// outlive the marker); `time` is how it waits (simulated in tests).
//
//   ActivePodMarker marker(
//       [&label](auto still) { return label.MarkActive(still); },
//       still_active, &common::RealTime());
#ifndef DXBACKUP_SCHEDULER_SERVER_ACTIVE_POD_MARKER_H_
#define DXBACKUP_SCHEDULER_SERVER_ACTIVE_POD_MARKER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "common/time_source.h"

namespace dxbackup::scheduler {

class ActivePodMarker {
 public:
  using MarkFn = std::function<absl::Status(const std::function<bool()>&)>;
  ActivePodMarker(MarkFn mark, std::function<bool()> still_active,
                  const common::TimeSource* time);

  // How long it waits after a look: marked, failed, not active now.
  static constexpr std::chrono::seconds kRecheck{30};
  static constexpr std::chrono::seconds kRetry{10};
  static constexpr std::chrono::seconds kInactive{1};
  ~ActivePodMarker();
  ActivePodMarker(const ActivePodMarker&) = delete;
  ActivePodMarker& operator=(const ActivePodMarker&) = delete;

 private:
  void Mark();

  const MarkFn mark_;
  const std::function<bool()> still_active_;
  const common::TimeSource* time_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SERVER_ACTIVE_POD_MARKER_H_
