#include "scheduler/runs/scale_back.h"

#include "common/log.h"
#include "scheduler/kubernetes/core_scale.h"

namespace dxbackup::scheduler {

absl::Status ScaleBackLeftDown(SetCatalog& sets, const v1::KubernetesApi& api,
                               const std::string& namespace_,
                               const std::string& release) {
  auto left = sets.ScaledDowns();
  if (!left.ok()) return left.status();
  for (const SetCatalog::ScaledDown& scaled : *left) {
    if (!namespace_.empty() &&
        (scaled.namespace_ != namespace_ || scaled.release != release)) {
      continue;
    }
    const std::string what =
        CoreStatefulSet(scaled.release) + " in " + scaled.namespace_;
    absl::Status s =
        ScaleCoreBack(api, scaled.namespace_, scaled.release, scaled.replicas);
    if (!s.ok()) {
      DXLOG(ERROR) << "set " << scaled.set_id << " left " << what
                   << " scaled down (the scheduler stopped in its window) "
                      "and it cannot be scaled back now: "
                   << s.message() << "; it is tried again at the next start";
      continue;
    }
    DXLOG(WARNING) << "scaled " << what << " back to " << scaled.replicas
                   << " replicas: set " << scaled.set_id
                   << " scaled it down and the scheduler stopped in its "
                      "window";
    s = sets.ForgetScaledDown(scaled.namespace_, scaled.release, scaled.set_id);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
