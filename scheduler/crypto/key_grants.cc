#include "scheduler/crypto/key_grants.h"

#include <utility>

namespace dxbackup::scheduler::crypto {

KeyGrants::Grant& KeyGrants::Grant::operator=(Grant&& other) noexcept {
  if (this != &other) {
    if (grants_ != nullptr) grants_->Revoke(job_ids_);
    grants_ = std::exchange(other.grants_, nullptr);
    job_ids_ = std::move(other.job_ids_);
  }
  return *this;
}

KeyGrants::Grant::~Grant() {
  if (grants_ != nullptr) grants_->Revoke(job_ids_);
}

KeyGrants::Grant KeyGrants::Give(std::vector<std::string> job_ids,
                                 Identities identities) {
  Grant grant;
  if (identities == nullptr || identities->empty()) return grant;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& id : job_ids) by_job_[id] = identities;
  }
  grant.grants_ = this;
  grant.job_ids_ = std::move(job_ids);
  return grant;
}

std::vector<Identity> KeyGrants::For(const std::string& job_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_job_.find(job_id);
  if (it == by_job_.end()) return {};
  return *it->second;
}

void KeyGrants::Revoke(const std::vector<std::string>& job_ids) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& id : job_ids) by_job_.erase(id);
}

}  // namespace dxbackup::scheduler::crypto
