// Holds on deployments (v1::DeploymentHold, kept in the SetCatalog). A
// restore in place holds its destination from its start: while it runs
// (`running`), and — when it stopped before its post-hooks for an
// external database its DBA restores by hand, DX stopped meanwhile —
// until the operator finishes it. While a hold lasts:
// - no backup set of the deployment starts (its hooks would start DX over
//   a database that is not back, and it would capture a half-restored
//   deployment);
// - retention keeps the set restored, and its chain;
// - no other restore goes into the deployment in place, except the held
//   restore's `--post-hooks-only` or `--release-hold`, or (once it waits)
//   a whole set restored in place again.
// A running hold ends with its restore (unless it then waits); a waiting
// one with `--post-hooks-only` that succeeded, `--release-hold`, or the
// end of a whole-set restore that replaced it. Holds a scheduler left
// running when it stopped wait from its next start (StopRunningHolds), or
// from when another replica takes their deployment over.
//
// Free functions over the catalog; thread-safe as it is.
#ifndef DXBACKUP_SCHEDULER_RUNS_DEPLOYMENT_HOLDS_H_
#define DXBACKUP_SCHEDULER_RUNS_DEPLOYMENT_HOLDS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/catalog/set_catalog.h"

namespace dxbackup::scheduler {

// The hold on namespace/release; nullopt when there is none.
absl::StatusOr<std::optional<v1::DeploymentHold>> HoldOn(
    SetCatalog& sets, const std::string& namespace_,
    const std::string& release);

// The sets held deployments keep, each with why (for retention).
absl::StatusOr<std::map<std::string, std::string>> HeldSets(SetCatalog& sets);

// FailedPrecondition for a backup of a held deployment: which restore
// holds it, since when, and (once it waits) how to end it.
absl::Status RefuseHeld(const v1::DeploymentHold& hold);

// OK when a restore described by `request` may go into namespace/release
// in place while `hold` holds it (see above); else FailedPrecondition
// saying why and what may run.
absl::Status CheckRestoreIntoHeld(const v1::DeploymentHold& hold,
                                  const v1::RestoreRequest& request);

// The hold restore `restore_id` takes at its start.
v1::DeploymentHold RunningHold(const v1::RestoreRequest& request,
                               const std::string& restore_id,
                               const std::string& namespace_,
                               const std::string& release, int64_t now_unix);

// The hold a restore leaves when its post-hooks were held: `held_post`
// (RestorePlan::held_post) says what waits and how to run them; the
// reason adds how to release it instead.
v1::DeploymentHold WaitingHold(const v1::RestoreRequest& request,
                               const std::string& restore_id,
                               const std::string& namespace_,
                               const std::string& release,
                               const std::string& held_post, int64_t now_unix);

// `restore SET --release-hold`: the hold a restore of request.set_id()
// left, on the deployment the request names (to_namespace/to_release) or
// on any: FailedPrecondition when there is none, when it is running, or
// when the set's restores hold several deployments and the request names
// none. The set itself need not exist any more.
absl::StatusOr<v1::DeploymentHold> HoldToRelease(
    SetCatalog& sets, const v1::RestoreRequest& request);

// At a scheduler's start: holds marked running belong to restores that
// ended with the scheduler that ran them. Each now waits, saying so and
// how to go on (DX may be stopped). Returns how many. With
// `namespace_`/`release`, only that deployment's (a replica taking it
// over from one that stopped).
absl::StatusOr<int> StopRunningHolds(SetCatalog& sets,
                                     const std::string& namespace_ = "",
                                     const std::string& release = "");

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_DEPLOYMENT_HOLDS_H_
