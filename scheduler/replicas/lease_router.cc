#include "scheduler/replicas/lease_router.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace dxbackup::scheduler {

std::shared_ptr<std::mutex> LeaseRouter::MutexOf(
    const std::string& deployment) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = claiming_.begin(); it != claiming_.end();) {
    it = it->second.expired() ? claiming_.erase(it) : std::next(it);
  }
  std::shared_ptr<std::mutex> mu = claiming_[deployment].lock();
  if (mu == nullptr) {
    mu = std::make_shared<std::mutex>();
    claiming_[deployment] = mu;
  }
  return mu;
}

absl::StatusOr<std::string> LeaseRouter::Route(const std::string& namespace_,
                                               const std::string& release) {
  const std::string deployment = namespace_ + "/" + release;
  std::shared_ptr<std::mutex> mu = MutexOf(deployment);
  std::unique_lock<std::mutex> claiming(*mu, std::try_to_lock);
  if (!claiming.owns_lock()) {
    return absl::UnavailableError(
        absl::StrCat("scheduler replica ", lease_->id(), " is taking ",
                     deployment, " over; try again in a moment"));
  }
  absl::StatusOr<ReplicaCatalog::Owner> owner =
      lease_->Claim(namespace_, release);
  if (!owner.ok()) return owner.status();
  if (owner->replica_id != lease_->id()) return owner->address;
  if (!owner->claimed) return std::string();
  DXLOG(INFO) << "replica " << lease_->id() << " takes " << deployment
              << " over"
              << (owner->previous.empty()
                      ? std::string()
                      : absl::StrCat(" from replica ", owner->previous));
  absl::Status s = take_over_(namespace_, release, owner->previous);
  if (s.ok()) s = lease_->CompleteTakeover(namespace_, release);
  if (!s.ok()) {
    return absl::Status(
        s.code(), absl::StrCat("taking ", deployment, " over: ", s.message()));
  }
  return std::string();
}

}  // namespace dxbackup::scheduler
