// A DX release's core StatefulSet (<release>-core) scaled to one replica
// for a backup set's window and back (Deployment.scale_to_one), through
// its scale subresource: GET and a JSON merge patch of spec.replicas on
// /apis/apps/v1/namespaces/NS/statefulsets/NAME/scale, nothing else.
//
//   CoreScaleDown down = ScaleCoreToOne(api, ns, release, time, timeout);
//   ... the window, on <release>-core-0 alone ...
//   if (down.replicas_before > 1)
//     absl::Status s = ScaleCoreBack(api, ns, release, down.replicas_before);
//
// Thread-safe: each call makes its own requests.
#ifndef DXBACKUP_SCHEDULER_KUBERNETES_CORE_SCALE_H_
#define DXBACKUP_SCHEDULER_KUBERNETES_CORE_SCALE_H_

#include <chrono>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "common/time_source.h"
#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

// How long a scale-down waits for the other core pods to go, and how
// often it looks.
inline constexpr std::chrono::seconds kScaleDownTimeout{600};
inline constexpr std::chrono::seconds kScaleDownPoll{2};

// "<release>-core", and the pod it keeps at one replica, "<release>-core-0".
std::string CoreStatefulSet(const std::string& release);
std::string CoreSurvivor(const std::string& release);

struct CoreScaleDown {
  // spec.replicas before; above 1 means it may have been patched to 1 and
  // must be scaled back, whatever `status` says (a patch whose answer was
  // lost may still have been applied; a timeout).
  int replicas_before = 0;
  // OK once status.replicas is at most 1; else why not (the API refused,
  // the pods did not go in `timeout`, `stopped`).
  absl::Status status;
};

// Scales <release>-core in `ns` to one replica, unless it runs one or none
// already, and waits (on `time`, polling every kScaleDownPoll; a failed
// look is tried again) until at most one pod is left, `timeout` passed or
// `stopped` (if set) says the set was stopped. Before it patches,
// `before_patch` (if set) is given the replicas there were — its error
// stops the scale-down before anything changed — and the scheduler's log
// names them (and how to scale back by hand).
CoreScaleDown ScaleCoreToOne(
    const v1::KubernetesApi& api, const std::string& ns,
    const std::string& release, const common::TimeSource& time,
    std::chrono::seconds timeout,
    const std::function<bool()>& stopped = nullptr,
    const std::function<absl::Status(int replicas)>& before_patch = nullptr);

// Scales <release>-core back to `replicas`; an error says how to do it by
// hand (kubectl scale).
absl::Status ScaleCoreBack(const v1::KubernetesApi& api, const std::string& ns,
                           const std::string& release, int replicas);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_KUBERNETES_CORE_SCALE_H_
