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
  std::lock_guard<std::mutex> claiming(*mu);
  absl::StatusOr<ReplicaCatalog::Owner> owner =
      lease_->Claim(namespace_, release);
  if (!owner.ok()) return owner.status();
  if (owner->replica_id != lease_->id()) return owner->address;
  std::string previous;
  bool owed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (owner->claimed) owed_takeovers_[deployment] = owner->previous;
    auto it = owed_takeovers_.find(deployment);
    owed = it != owed_takeovers_.end();
    if (owed) previous = it->second;
  }
  if (!owed) return std::string();
  DXLOG(INFO) << "replica " << lease_->id() << " takes " << deployment
              << " over"
              << (previous.empty() ? std::string()
                                   : absl::StrCat(" from replica ", previous));
  if (absl::Status s = take_over_(namespace_, release, previous); !s.ok()) {
    return absl::Status(
        s.code(), absl::StrCat("taking ", deployment, " over: ", s.message()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  owed_takeovers_.erase(deployment);
  return std::string();
}

}  // namespace dxbackup::scheduler
