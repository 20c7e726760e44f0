#include "scheduler/runs/deployment_holds.h"

#include <vector>

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

// "restore R of set S (since T)".
std::string Holder(const v1::DeploymentHold& hold) {
  return absl::StrCat("restore ", hold.restore_id(), " of set ", hold.set_id(),
                      " (since ", Since(hold), ")");
}

// `dxbackup restore SET --release-hold`, with the flags that name the
// deployment (a clone's).
std::string ReleaseCommand(const v1::RestoreRequest& request) {
  v1::RestoreRequest release;
  release.set_set_id(request.set_id());
  release.set_to_namespace(request.to_namespace());
  release.set_to_release(request.to_release());
  return absl::StrCat(RestoreCommandLine(release), " --release-hold");
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
    held[hold.set_id()] = absl::StrCat(
        "held: restore ", hold.restore_id(), " into ", Deployment(hold),
        hold.running() ? " runs" : " waits for its post-hooks");
  }
  return held;
}

absl::Status RefuseHeld(const v1::DeploymentHold& hold) {
  if (hold.running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no backup set of ", Deployment(hold), " is taken while ",
                     Holder(hold), " runs into it"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("no backup set of ", Deployment(hold), " is taken while ",
                   Holder(hold), " holds it: ", hold.reason()));
}

absl::Status CheckRestoreIntoHeld(const v1::DeploymentHold& hold,
                                  const v1::RestoreRequest& request) {
  if (hold.running()) {
    return absl::FailedPreconditionError(absl::StrCat(
        Holder(hold), " runs into ", Deployment(hold), ": wait for it to end"));
  }
  const bool own = hold.set_id() == request.set_id();
  if (request.post_hooks_only() && own) return absl::OkStatus();
  // The whole set again, in place: it redoes what the held restore did.
  if (!request.post_hooks_only() && request.target().empty() &&
      request.paths().empty()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      Deployment(hold), " is held by ", Holder(hold), ": ", hold.reason(),
      ". Until then only that restore's --post-hooks-only or --release-hold, "
      "or a whole set restored in place again, may go into it (a part "
      "restored now would start DX by its hooks)"));
}

v1::DeploymentHold RunningHold(const v1::RestoreRequest& request,
                               const std::string& restore_id,
                               const std::string& namespace_,
                               const std::string& release, int64_t now_unix) {
  v1::DeploymentHold hold;
  hold.set_namespace_(namespace_);
  hold.set_release(release);
  hold.set_set_id(request.set_id());
  hold.set_restore_id(restore_id);
  hold.set_running(true);
  hold.set_reason(absl::StrCat("restore ", restore_id, " of set ",
                               request.set_id(), " runs"));
  hold.set_since_unix(now_unix);
  return hold;
}

v1::DeploymentHold WaitingHold(const v1::RestoreRequest& request,
                               const std::string& restore_id,
                               const std::string& namespace_,
                               const std::string& release,
                               const std::string& held_post, int64_t now_unix) {
  v1::DeploymentHold hold =
      RunningHold(request, restore_id, namespace_, release, now_unix);
  hold.set_running(false);
  // held_post is the post-hooks' error: "not run: DX stays stopped ...".
  std::string waits = held_post;
  if (absl::StartsWith(waits, "not run: ")) waits.erase(0, 9);
  hold.set_reason(absl::StrCat(waits,
                               " (or, if DX was started by other "
                               "means, `",
                               ReleaseCommand(request), "`)"));
  return hold;
}

absl::StatusOr<v1::DeploymentHold> HoldToRelease(
    SetCatalog& sets, const v1::RestoreRequest& request) {
  auto holds = sets.Holds();
  if (!holds.ok()) return holds.status();
  std::vector<v1::DeploymentHold> found;
  for (const v1::DeploymentHold& hold : *holds) {
    if (hold.set_id() != request.set_id()) continue;
    if (!request.to_namespace().empty() &&
        hold.namespace_() != request.to_namespace()) {
      continue;
    }
    if (!request.to_release().empty() &&
        hold.release() != request.to_release()) {
      continue;
    }
    found.push_back(hold);
  }
  if (found.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no restore of set ", request.set_id(), " holds ",
        request.to_namespace().empty()
            ? std::string("a deployment")
            : absl::StrCat(request.to_namespace(), "/", request.to_release()),
        " (`dxbackup show SET` names a set's hold)"));
  }
  if (found.size() > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "restores of set ", request.set_id(), " hold ", found.size(),
        " deployments; name one with --to-namespace and --to-release"));
  }
  if (found[0].running()) {
    return absl::FailedPreconditionError(
        absl::StrCat(Holder(found[0]), " runs into ", Deployment(found[0]),
                     ": its hold ends with it"));
  }
  return found[0];
}

absl::StatusOr<int> StopRunningHolds(SetCatalog& sets,
                                     const std::string& namespace_,
                                     const std::string& release) {
  auto holds = sets.Holds();
  if (!holds.ok()) return holds.status();
  int stopped = 0;
  for (v1::DeploymentHold hold : *holds) {
    if (!hold.running()) continue;
    if (!namespace_.empty() &&
        (hold.namespace_() != namespace_ || hold.release() != release)) {
      continue;
    }
    // Released with its deployment named (it may be a clone's).
    v1::RestoreRequest release;
    release.set_set_id(hold.set_id());
    release.set_to_namespace(hold.namespace_());
    release.set_to_release(hold.release());
    hold.set_running(false);
    hold.set_reason(absl::StrCat(
        "the scheduler stopped while it ran, so DX may be stopped and the "
        "deployment part-restored: restore the whole set again, or, once DX "
        "is whole and running, `",
        ReleaseCommand(release), "`"));
    absl::Status s = sets.PutHold(hold);
    if (!s.ok()) return s;
    ++stopped;
  }
  return stopped;
}

}  // namespace dxbackup::scheduler
