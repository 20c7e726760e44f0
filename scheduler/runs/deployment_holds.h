// Holds on deployments (v1::DeploymentHold, kept in the SetCatalog). A
// restore that stopped before its post-hooks — an external database its
// DBA restores by hand, with DX stopped meanwhile — holds its destination:
// no backup set of it starts (its pre- and post-hooks would start DX over
// a database that is not back, and it would capture a half-restored
// deployment) and retention keeps the set restored (the follow-up
// `restore --post-hooks-only` reads it), until the restore's post-hooks
// ran or the operator releases it (`restore --release-hold`).
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
// holds it, since when, what it waits for and how to end it.
absl::Status RefuseHeld(const v1::DeploymentHold& hold);

// The hold a restore described by `request` leaves on namespace/release
// when its post-hooks were held: `held_post` (RestorePlan::held_post) says
// what waits and how to run them; the reason adds how to release it
// instead.
v1::DeploymentHold HoldFor(const v1::RestoreRequest& request,
                           const std::string& restore_id,
                           const std::string& namespace_,
                           const std::string& release,
                           const std::string& held_post, int64_t now_unix);

// `restore --release-hold`: ends the hold on namespace/release when the
// restore of request.set_id() left it. FailedPrecondition when there is no
// hold, or another set's restore holds it (naming that set).
absl::Status ReleaseHoldFor(SetCatalog& sets, const v1::RestoreRequest& request,
                            const std::string& namespace_,
                            const std::string& release);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_DEPLOYMENT_HOLDS_H_
