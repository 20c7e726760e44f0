#include "scheduler/access/caller_limits.h"

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler {
namespace {
constexpr int kDefaultStreamsPerCaller = 256;
constexpr int kDefaultDownloadsPerJob = 2;
}  // namespace

CallerLimits::CallerLimits(int streams_per_caller, int downloads_per_job)
    : streams_per_caller_(streams_per_caller > 0 ? streams_per_caller
                                                 : kDefaultStreamsPerCaller),
      downloads_per_job_(downloads_per_job > 0 ? downloads_per_job
                                               : kDefaultDownloadsPerJob) {}

CallerLimits::Slot& CallerLimits::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = other.owner_;
    key_ = std::move(other.key_);
    other.owner_ = nullptr;
  }
  return *this;
}

void CallerLimits::Slot::Release() {
  if (owner_ != nullptr) owner_->Release(key_);
  owner_ = nullptr;
}

absl::StatusOr<CallerLimits::Slot> CallerLimits::AcquireStream(
    const std::string& caller) {
  return Acquire(
      "stream " + caller, streams_per_caller_,
      absl::StrCat(caller, " holds ", streams_per_caller_,
                   " streams already (limits.max_streams_per_caller): close "
                   "some, or raise the limit for fleets this large"));
}

absl::StatusOr<CallerLimits::Slot> CallerLimits::AcquireDownload(
    const std::string& job_id) {
  return Acquire(
      "download " + job_id, downloads_per_job_,
      absl::StrCat("restore job ", job_id, " has ", downloads_per_job_,
                   " downloads open already "
                   "(limits.max_downloads_per_job)"));
}

absl::StatusOr<CallerLimits::Slot> CallerLimits::Acquire(
    const std::string& key, int limit, const std::string& refusal) {
  std::lock_guard<std::mutex> lock(mu_);
  int& held = held_[key];
  if (held >= limit) return absl::ResourceExhaustedError(refusal);
  ++held;
  Slot slot;
  slot.owner_ = this;
  slot.key_ = key;
  return slot;
}

void CallerLimits::Release(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(key);
  if (it != held_.end() && --it->second <= 0) held_.erase(it);
}

}  // namespace dxbackup::scheduler
