#include "scheduler/periodic/stale_task.h"

#include <optional>

#include "common/log.h"
#include "scheduler/notify/notices.h"

namespace dxbackup::scheduler {

void StaleTask::Run(absl::Time now) {
  if (!every_.Due(now)) return;
  std::map<std::string, int64_t> rpo;  // by policy
  for (const v1::Policy& p : config_.policies()) {
    if (p.rpo_seconds() > 0) rpo[p.name()] = p.rpo_seconds();
  }
  if (rpo.empty()) return;
  const int64_t now_unix = absl::ToUnixSeconds(now);
  // Once covered, always looked at: a deployment whose agents died, and
  // were forgotten, is the one most in need of telling.
  for (PlanKey& key : covered_()) known_.insert(std::move(key));
  for (const PlanKey& key : known_) {
    auto limit = rpo.find(key.policy);
    if (limit == rpo.end()) continue;
    const int64_t first_seen =
        first_seen_unix_.emplace(key, now_unix).first->second;
    v1::ListSetsRequest request;
    request.set_namespace_(key.namespace_);
    request.set_release(key.release);
    request.set_status(v1::SET_COMPLETE);
    absl::StatusOr<std::vector<v1::BackupSet>> sets = sets_->ListSets(request);
    if (!sets.ok()) {
      DXLOG(WARNING) << "stale check of " << key.Deployment()
                     << ": the catalog cannot list its sets: "
                     << sets.status().message();
      continue;
    }
    std::optional<v1::BackupSet> newest;
    for (const v1::BackupSet& s : *sets) {
      if (s.verification().result() == v1::Verification::CORRUPT) continue;
      if (!newest.has_value() || s.finished_unix() > newest->finished_unix()) {
        newest = s;
      }
    }
    const int64_t since =
        newest.has_value() ? newest->finished_unix() : first_seen;
    if (now_unix - since <= limit->second) {
      told_.erase(key);  // fresh: a later spell is told again
      continue;
    }
    if (!told_.insert(key).second) continue;
    notices_->Notify(
        StaleNotice(key.namespace_, key.release, key.policy, limit->second,
                    newest.has_value() ? &*newest : nullptr, now_unix));
  }
}

}  // namespace dxbackup::scheduler
