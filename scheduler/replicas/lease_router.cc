#include "scheduler/replicas/lease_router.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace dxbackup::scheduler {

absl::StatusOr<std::string> LeaseRouter::Route(const std::string& namespace_,
                                               const std::string& release) {
  const std::string deployment = namespace_ + "/" + release;
  absl::StatusOr<ReplicaCatalog::Owner> owner =
      lease_->Claim(namespace_, release);
  if (!owner.ok()) return owner.status();
  if (owner->replica_id != lease_->id()) return owner->address;
  if (!owner->claimed) return std::string();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!taking_over_.insert(deployment).second) {
      return absl::UnavailableError(
          absl::StrCat("scheduler replica ", lease_->id(), " is taking ",
                       deployment, " over; try again in a moment"));
    }
  }
  // Claimed again under the mark: a takeover that ended since this
  // caller's claim is not run twice (it would end the sets started since).
  owner = lease_->Claim(namespace_, release);
  absl::Status s = owner.status();
  if (s.ok() && owner->replica_id == lease_->id() && owner->claimed) {
    DXLOG(INFO) << "replica " << lease_->id() << " takes " << deployment
                << " over"
                << (owner->previous.empty()
                        ? std::string()
                        : absl::StrCat(" from replica ", owner->previous));
    s = take_over_(namespace_, release, owner->previous);
    if (s.ok()) s = lease_->CompleteTakeover(namespace_, release);
    if (!s.ok()) {
      s = absl::Status(s.code(), absl::StrCat("taking ", deployment,
                                              " over: ", s.message()));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    taking_over_.erase(deployment);
  }
  if (!s.ok()) return s;
  if (owner->replica_id != lease_->id()) return owner->address;
  return std::string();
}

}  // namespace dxbackup::scheduler
