#include "scheduler/sets/set_leases.h"

#include <utility>

namespace dxbackup::scheduler {

SetLeases::Lease& SetLeases::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    leases_ = std::exchange(other.leases_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void SetLeases::Lease::Release() {
  if (leases_ != nullptr) leases_->Release(id_);
  leases_ = nullptr;
  id_ = 0;
}

SetLeases::Lease SetLeases::Take(const std::string& set_id,
                                 const std::string& reader) {
  std::lock_guard<std::mutex> lock(mu_);
  Lease lease;
  lease.leases_ = this;
  lease.id_ = next_++;
  readings_[lease.id_] = {set_id, reader};
  return lease;
}

std::map<std::string, std::string> SetLeases::Readers() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [id, r] : readings_) out.emplace(r.set_id, r.reader);
  return out;
}

void SetLeases::Release(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  readings_.erase(id);
}

}  // namespace dxbackup::scheduler
