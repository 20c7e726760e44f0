// ActivePodLabel marks which scheduler pod is the active one, so that the
// chart's Service (scheduler.replicas above 1) selects it alone while the
// standbys stay Ready: the label dxbackup.io/active=true on the active
// scheduler's pod and on no other of its peers. With every replica Ready,
// a rolling update and a PodDisruptionBudget work as for any Deployment.
//
//   ActivePodLabel label(*api, {"backup", "dxb-dxbackup-1"},
//                        "app.kubernetes.io/instance=dxb,...");
//   label.MarkStandby();   // starting: not the active one (yet)
//   ... once active (CatalogLock held):
//   label.MarkActive();    // others' labels off, then this pod's on
//
// Only the scheduler that holds the catalog's active lock calls
// MarkActive: the label it takes off another pod is that of one active
// before it (killed, and restarting in the same pod; or frozen, and fenced
// off the catalog), which must get no more agents. Errors name the pod and
// the grant the token needs (get, list and patch on pods).
//
// Thread-compatible: one caller at a time.
#ifndef DXBACKUP_SCHEDULER_KUBERNETES_ACTIVE_POD_LABEL_H_
#define DXBACKUP_SCHEDULER_KUBERNETES_ACTIVE_POD_LABEL_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "scheduler/kubernetes/kube_client.h"

namespace dxbackup::scheduler {

class ActivePodLabel {
 public:
  static constexpr char kLabel[] = "dxbackup.io/active";

  struct Pod {
    std::string namespace_;
    std::string name;
  };
  // `self`: this scheduler's pod; `peers`: the label selector of the
  // release's scheduler pods (equality terms, "k=v,k=v"). `api` is copied.
  ActivePodLabel(const KubeClient& api, Pod self, std::string peers);

  // Parses NAMESPACE/POD (two DNS labels); InvalidArgument naming `flag`.
  static absl::StatusOr<Pod> ParsePod(const std::string& text,
                                      const std::string& flag);

  // Takes the label off every peer that has it, then puts it on this pod
  // (if it has it not already: looking again costs one list). A peer that
  // cannot be patched is logged and passed over. `still_active` (empty:
  // always) is asked before each change; false ends the call (Aborted).
  absl::Status MarkActive(const std::function<bool()>& still_active = {});
  // Takes the label off this pod (if it has it).
  absl::Status MarkStandby();

 private:
  absl::Status SetLabel(const std::string& pod, bool active);

  KubeClient api_;
  Pod self_;
  std::string peers_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_KUBERNETES_ACTIVE_POD_LABEL_H_
