// ScaleBackLeftDown puts back, when the scheduler starts, what a set's
// scale_to_one left scaled down: the StatefulSets recorded in the catalog
// (SetCatalog::ScaledDowns) whose scale-up never ran, because the
// scheduler that ran the set stopped inside its window. Each is scaled
// back to the replicas it had and forgotten; one that cannot be is logged
// with how to do it by hand and kept, to be tried at the next start.
//
// Call once at start, before any set runs (every recorded one is then
// stale); or, for one deployment (`namespace_`/`release`), when a replica
// has just taken it over, before it runs a set of it. Thread-compatible.
#ifndef DXBACKUP_SCHEDULER_RUNS_SCALE_BACK_H_
#define DXBACKUP_SCHEDULER_RUNS_SCALE_BACK_H_

#include <string>

#include "absl/status/status.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/set_catalog.h"

namespace dxbackup::scheduler {

// The catalog's error when it cannot be read; an API that refuses is
// logged, not returned (the scheduler starts anyway).
absl::Status ScaleBackLeftDown(SetCatalog& sets, const v1::KubernetesApi& api,
                               const std::string& namespace_ = "",
                               const std::string& release = "");

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_SCALE_BACK_H_
