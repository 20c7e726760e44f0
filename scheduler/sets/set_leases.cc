#include "scheduler/sets/set_leases.h"

#include <utility>

#include "absl/strings/str_cat.h"

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

absl::StatusOr<SetLeases::Lease> SetLeases::Take(const std::string& set_id,
                                                 const std::string& reader) {
  std::lock_guard<std::mutex> lock(mu_);
  if (removing_.count(set_id) != 0) {
    return absl::NotFoundError(
        absl::StrCat("set ", set_id,
                     " is being removed (retention or `delete`); take "
                     "another set (`dxbackup sets`)"));
  }
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

bool SetLeases::BeginRemoval(const std::string& set_id, std::string* reader) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, r] : readings_) {
    if (r.set_id == set_id) {
      *reader = r.reader;
      return false;
    }
  }
  removing_.insert(set_id);
  return true;
}

void SetLeases::FinishRemoval(const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  removing_.erase(set_id);
}

void SetLeases::Release(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  readings_.erase(id);
}

}  // namespace dxbackup::scheduler
