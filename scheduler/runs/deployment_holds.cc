#include "scheduler/runs/deployment_holds.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "scheduler/runs/restore_plan.h"

namespace dxbackup::scheduler {
namespace {

std::string Deployment(const v1::DeploymentHold& hold) {
  return absl::StrCat(hold.namespace_(), "/", hold.release());
}

std::string Since(const v1::DeploymentHold& hold) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(hold.since_unix()),
                          absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<std::optional<v1::DeploymentHold>> HoldOn(
    SetCatalog& sets, const std::string& namespace_,
    const std::string& release) {
  auto holds = sets.Holds();
  if (!holds.ok()) return holds.status();
  for (v1::DeploymentHold& hold : *holds) {
    if (hold.namespace_() == namespace_ && hold.release() == release) {
      return std::move(hold);
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::map<std::string, std::string>> HeldSets(SetCatalog& sets) {
  auto holds = sets.Holds();
  if (!holds.ok()) return holds.status();
  std::map<std::string, std::string> held;
  for (const v1::DeploymentHold& hold : *holds) {
    held[hold.set_id()] =
        absl::StrCat("held: restore ", hold.restore_id(), " into ",
                     Deployment(hold), " waits for its post-hooks");
  }
  return held;
}

absl::Status RefuseHeld(const v1::DeploymentHold& hold) {
  return absl::FailedPreconditionError(absl::StrCat(
      "no backup set of ", Deployment(hold), " is taken while restore ",
      hold.restore_id(), " of set ", hold.set_id(), " holds it (since ",
      Since(hold), "): ", hold.reason()));
}

v1::DeploymentHold HoldFor(const v1::RestoreRequest& request,
                           const std::string& restore_id,
                           const std::string& namespace_,
                           const std::string& release,
                           const std::string& held_post, int64_t now_unix) {
  v1::DeploymentHold hold;
  hold.set_namespace_(namespace_);
  hold.set_release(release);
  hold.set_set_id(request.set_id());
  hold.set_restore_id(restore_id);
  // held_post is the post-hooks' error: "not run: DX stays stopped ...".
  std::string waits = held_post;
  if (absl::StartsWith(waits, "not run: ")) waits.erase(0, 9);
  hold.set_reason(
      absl::StrCat(waits, " (or, if DX was started by other means, `",
                   RestoreCommandLine(request), " --release-hold`)"));
  hold.set_since_unix(now_unix);
  return hold;
}

absl::Status ReleaseHoldFor(SetCatalog& sets, const v1::RestoreRequest& request,
                            const std::string& namespace_,
                            const std::string& release) {
  const std::string deployment = absl::StrCat(namespace_, "/", release);
  auto hold = HoldOn(sets, namespace_, release);
  if (!hold.ok()) return hold.status();
  if (!hold->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(deployment, " is not held by any restore"));
  }
  if ((*hold)->set_id() != request.set_id()) {
    return absl::FailedPreconditionError(absl::StrCat(
        deployment, " is held by restore ", (*hold)->restore_id(), " of set ",
        (*hold)->set_id(), ", not by a restore of set ", request.set_id(),
        "; `dxbackup show ", (*hold)->set_id(), "` says how to end it"));
  }
  return sets.ReleaseHold(namespace_, release);
}

}  // namespace dxbackup::scheduler
