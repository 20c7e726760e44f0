#include "scheduler/periodic/file_index_retention.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/runs/set_levels.h"

namespace dxbackup::scheduler {
namespace {

bool Sound(const v1::BackupSet& set) {
  return set.status() == v1::SET_COMPLETE &&
         set.verification().result() != v1::Verification::CORRUPT;
}

bool Ended(const v1::BackupSet& set) {
  return set.status() == v1::SET_COMPLETE || set.status() == v1::SET_FAILED;
}

// Whether sets of `policy` may be differentials: manual sets ("") may be;
// a policy's are when its capture level says so (a policy no longer
// configured takes no more sets).
bool TakesDifferentials(const v1::SchedulerConfig& config,
                        const std::string& policy) {
  if (policy.empty()) return true;
  for (const v1::Policy& p : config.policies()) {
    if (p.name() == policy) return p.capture().level() == v1::DIFFERENTIAL;
  }
  return false;
}

// The sets of one deployment (newest first) whose rows may move.
std::vector<std::string> SetsToMove(const v1::SchedulerConfig& config,
                                    const std::vector<v1::BackupSet>& sets,
                                    int keep_sets) {
  std::set<std::string> base_newest, base_full;  // policies seen
  std::vector<std::string> moving;
  int ended = 0;
  for (const v1::BackupSet& set : sets) {
    if (!Ended(set)) continue;
    bool keep = ++ended <= keep_sets;
    if (Sound(set)) {
      keep |= base_newest.insert(set.policy()).second;
      if (IsFull(set) && TakesDifferentials(config, set.policy())) {
        keep |= base_full.insert(set.policy()).second;
      }
    }
    if (!keep) moving.push_back(set.id());
  }
  return moving;
}

}  // namespace

absl::Status FileIndexRetention::Apply(const std::string& namespace_,
                                       const std::string& release) {
  if (keep_sets_ <= 0) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  return ApplyLocked(namespace_, release);
}

absl::Status FileIndexRetention::ApplyAll() {
  if (keep_sets_ <= 0) return absl::OkStatus();
  absl::StatusOr<std::vector<SetCatalog::DeploymentSummary>> deployments =
      sets_->DeploymentSummaries("", "");
  if (!deployments.ok()) return deployments.status();
  absl::Status first;
  for (const SetCatalog::DeploymentSummary& d : *deployments) {
    if (stopping_) break;
    if (!InScope(scope_, d.namespace_, d.release)) continue;
    std::lock_guard<std::mutex> lock(mu_);
    absl::Status s = ApplyLocked(d.namespace_, d.release);
    if (first.ok()) first = s;
  }
  return first;
}

FileIndexRetention::~FileIndexRetention() { Stop(); }

void FileIndexRetention::RequestAll() {
  if (keep_sets_ <= 0) return;
  std::lock_guard<std::mutex> lock(request_mu_);
  if (stopping_) return;
  requested_ = true;
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { RunRequests(); });
  }
  request_cv_.notify_one();
}

void FileIndexRetention::Stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(request_mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  request_cv_.notify_one();
  if (thread.joinable()) thread.join();
}

void FileIndexRetention::RunRequests() {
  std::unique_lock<std::mutex> lock(request_mu_);
  for (;;) {
    request_cv_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    // Failures are logged per set; the rows stay in the catalog.
    ApplyAll().IgnoreError();
    lock.lock();
  }
}

absl::Status FileIndexRetention::ApplyLocked(const std::string& namespace_,
                                             const std::string& release) {
  v1::ListSetsRequest filter;
  filter.set_namespace_(namespace_);
  filter.set_release(release);
  absl::StatusOr<std::vector<v1::BackupSet>> sets = sets_->ListSets(filter);
  if (!sets.ok()) return sets.status();
  absl::Status first;
  for (const std::string& id : SetsToMove(config_, *sets, keep_sets_)) {
    if (stopping_) break;
    absl::Status s = MoveSet(id);
    if (!s.ok()) {
      DXLOG(WARNING) << "file index of set " << id
                     << " stays in the catalog: " << s.message();
      if (first.ok()) first = s;
    }
  }
  return first;
}

absl::Status FileIndexRetention::MoveSet(const std::string& set_id) {
  SetLeases::Lease lease;
  if (leases_ != nullptr) {
    absl::StatusOr<SetLeases::Lease> taken =
        leases_->Take(set_id, "the file index's move to the store");
    if (!taken.ok()) return absl::OkStatus();  // being removed
    lease = *std::move(taken);
  }
  // Read again under the lease: retention may have begun removing it.
  absl::StatusOr<v1::BackupSet> set = sets_->GetSet(set_id);
  if (absl::IsNotFound(set.status())) return absl::OkStatus();  // removed
  if (!set.ok()) return set.status();
  if (!Ended(*set)) return absl::OkStatus();
  absl::StatusOr<std::vector<v1::Artifact>> artifacts =
      sets_->ListArtifacts(set_id);
  if (!artifacts.ok()) return artifacts.status();
  int moved = 0;
  for (const v1::Artifact& artifact : *artifacts) {
    if (artifact.kind() != v1::ARTIFACT_VOLUME_TAR ||
        artifact.has_file_list()) {
      continue;
    }
    absl::Status s = lists_->Move(artifact);
    if (!s.ok()) return s;
    ++moved;
  }
  if (moved > 0) {
    DXLOG(INFO) << "moved the file index of set " << set_id << " (" << moved
                << (moved == 1 ? " volume" : " volumes") << ") to the store";
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
