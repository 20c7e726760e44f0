#include "scheduler/store/namespace_quota.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler {

void NamespaceQuota::Recount(const std::string& ns, uint64_t committed_bytes) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  usage_[ns].stored = committed_bytes;
}

absl::Status NamespaceQuota::Reserve(const std::string& ns, uint64_t bytes) {
  if (!enabled()) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  Usage& usage = usage_[ns];
  if (usage.stored + usage.writing + bytes > limit_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "namespace ", ns, " is at its store quota of ", limit_, " bytes (",
        usage.stored, " stored, ", usage.writing,
        " being written): remove sets (`dxbackup prune`, tighter retention) "
        "or raise limits.max_store_bytes_per_namespace"));
  }
  usage.writing += bytes;
  return absl::OkStatus();
}

void NamespaceQuota::Settle(const std::string& ns, uint64_t bytes,
                            bool committed) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Usage& usage = usage_[ns];
  usage.writing -= std::min(usage.writing, bytes);
  if (committed) usage.stored += bytes;
}

}  // namespace dxbackup::scheduler
