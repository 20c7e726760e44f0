#include "scheduler/periodic/pruner.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/policy/cron_schedule.h"
#include "scheduler/policy/retention.h"
#include "scheduler/runs/deployment_holds.h"

namespace dxbackup::scheduler {

namespace {

// Holds `mu` (if any) for its lifetime.
class OptionalLock {
 public:
  explicit OptionalLock(std::mutex* mu) : mu_(mu) {
    if (mu_ != nullptr) mu_->lock();
  }
  ~OptionalLock() {
    if (mu_ != nullptr) mu_->unlock();
  }
  OptionalLock(const OptionalLock&) = delete;
  OptionalLock& operator=(const OptionalLock&) = delete;

 private:
  std::mutex* mu_;
};

}  // namespace

Pruner::Pruner(const v1::SchedulerConfig& config, SetCatalog* sets,
               ArtifactStore* store, const common::Clock* clock,
               SchedulerMetrics* metrics, std::mutex* set_removal,
               SetLeases* leases)
    : config_(config),
      sets_(sets),
      store_(store),
      clock_(clock),
      metrics_(metrics),
      set_removal_(set_removal),
      leases_(leases) {}

bool Pruner::BeginRemoval(const std::string& set_id, std::string* reader) {
  return leases_ == nullptr || leases_->BeginRemoval(set_id, reader);
}

absl::StatusOr<std::map<std::string, std::string>> Pruner::PinnedSets() {
  auto pinned = HeldSets(*sets_);
  if (!pinned.ok() || leases_ == nullptr) return pinned;
  for (const auto& [set_id, reader] : leases_->Readers()) {
    pinned->emplace(set_id, absl::StrCat("being read by ", reader));
  }
  return pinned;
}

absl::StatusOr<v1::PruneResponse> Pruner::Prune(bool dry_run,
                                                const std::string& policy) {
  std::lock_guard<std::mutex> lock(mu_);
  OptionalLock removal(set_removal_);  // no base goes while a set starts
  v1::PruneResponse response;
  auto locked = sets_->LockedSets(clock_->NowUnix());
  if (!locked.ok()) return locked.status();
  auto held = PinnedSets();
  if (!held.ok()) return held.status();
  bool found = policy.empty();
  for (const v1::Policy& p : config_.policies()) {
    if (!policy.empty() && p.name() != policy) continue;
    found = true;
    v1::ListSetsRequest filter;
    filter.set_policy(p.name());
    auto sets = sets_->ListSets(filter);
    if (!sets.ok()) return sets.status();
    // Grouped here, in the list's order (newest first): one query for the
    // policy, not one per deployment.
    std::map<std::pair<std::string, std::string>, std::vector<v1::BackupSet>>
        groups;
    for (v1::BackupSet& s : *sets) {
      groups[{s.namespace_(), s.release()}].push_back(std::move(s));
    }
    for (auto& [group, group_sets] : groups) {
      if (!dry_run && !InScope(scope_, group.first, group.second)) continue;
      absl::Status st =
          Decide(p, std::move(group_sets), dry_run, *locked, *held, &response);
      if (!st.ok()) return st;
    }
  }
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("no policy ", policy,
                     " in the config; `dxbackup policies` lists them"));
  }
  return response;
}

absl::StatusOr<v1::PruneResponse> Pruner::PruneGroup(
    const v1::Policy& policy, const std::string& namespace_,
    const std::string& release, bool dry_run) {
  std::lock_guard<std::mutex> lock(mu_);
  OptionalLock removal(set_removal_);  // no base goes while a set starts
  return DecideGroup(policy, namespace_, release, dry_run);
}

absl::StatusOr<v1::PruneResponse> Pruner::Explain(const v1::Policy& policy,
                                                  const std::string& namespace_,
                                                  const std::string& release) {
  return DecideGroup(policy, namespace_, release, /*dry_run=*/true);
}

absl::StatusOr<v1::PruneResponse> Pruner::DecideGroup(
    const v1::Policy& policy, const std::string& namespace_,
    const std::string& release, bool dry_run) {
  v1::PruneResponse response;
  auto locked = sets_->LockedSets(clock_->NowUnix());
  if (!locked.ok()) return locked.status();
  auto held = PinnedSets();
  if (!held.ok()) return held.status();
  v1::ListSetsRequest filter;
  filter.set_policy(policy.name());
  filter.set_namespace_(namespace_);
  filter.set_release(release);
  auto sets = sets_->ListSets(filter);
  if (!sets.ok()) return sets.status();
  absl::Status st =
      Decide(policy, std::move(*sets), dry_run, *locked, *held, &response);
  if (!st.ok()) return st;
  return response;
}

absl::Status Pruner::Decide(const v1::Policy& policy,
                            std::vector<v1::BackupSet> sets, bool dry_run,
                            const std::map<std::string, int64_t>& locked,
                            const std::map<std::string, std::string>& held,
                            v1::PruneResponse* response) {
  std::map<std::string, v1::BackupSet> by_id;
  std::vector<RetentionCandidate> candidates;
  for (v1::BackupSet& s : sets) {
    if (s.status() == v1::SET_EXPIRING) continue;  // FinishInterrupted's
    RetentionCandidate c;
    c.id = s.id();
    c.time = absl::FromUnixSeconds(s.started_unix());
    c.base_id = s.base_set_id();  // an incremental keeps its chain
    if (auto h = held.find(s.id()); h != held.end()) c.pinned = h->second;
    // A set that failed verification counts as failed, not complete.
    const bool sound = s.verification().result() != v1::Verification::CORRUPT;
    c.state = s.status() == v1::SET_COMPLETE && sound
                  ? RetentionCandidate::State::kComplete
              : s.status() == v1::SET_RUNNING
                  ? RetentionCandidate::State::kRunning
                  : RetentionCandidate::State::kFailed;
    candidates.push_back(c);
    by_id.emplace(c.id, std::move(s));
  }
  absl::StatusOr<absl::TimeZone> tz = LoadZone(policy.time_zone());
  if (!tz.ok()) return tz.status();
  auto decisions =
      ApplyRetention(policy.retention(), *tz, absl::FromChrono(clock_->Now()),
                     std::move(candidates));
  if (!decisions.ok()) return decisions.status();
  const int64_t now = clock_->NowUnix();
  for (RetentionDecision& d : *decisions) {
    if (!d.keep) {
      // An object under Object Lock cannot go before its retention ends:
      // the set stays until then, and says why.
      auto until = locked.find(d.id);
      if (until != locked.end() && until->second > now) {
        d.keep = true;
        d.reasons = {
            absl::StrCat("locked in the store until ",
                         absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                          absl::FromUnixSeconds(until->second),
                                          absl::UTCTimeZone()),
                         " (Object Lock); removed after that")};
      }
    }
    v1::BackupSet& set = by_id[d.id];
    // A reader that came after the decision keeps the set this time.
    std::string reader;
    if (!d.keep && !dry_run && !BeginRemoval(d.id, &reader)) {
      d.keep = true;
      d.reasons = {absl::StrCat("being read by ", reader)};
    }
    if (!d.keep && !dry_run) {
      response->set_removed_bytes(response->removed_bytes() + set.bytes());
      absl::Status st = Remove(set);
      if (leases_ != nullptr) leases_->FinishRemoval(d.id);
      if (!st.ok()) return st;
    }
    v1::PruneDecision* out = response->add_decisions();
    *out->mutable_set() = std::move(set);  // each set has one decision
    out->set_keep(d.keep);
    for (const std::string& r : d.reasons) out->add_reasons(r);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::DeleteSetResponse> Pruner::Delete(
    const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  OptionalLock removal(set_removal_);  // no base goes while a set starts
  absl::StatusOr<v1::BackupSet> set = sets_->GetSet(set_id);
  if (!set.ok()) return set.status();
  if (set->status() == v1::SET_RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat(
        "set ", set_id, " is running; it can be deleted once it ended"));
  }
  auto held = PinnedSets();
  if (!held.ok()) return held.status();
  if (auto h = held->find(set_id); h != held->end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "set ", set_id, " is ", h->second,
        absl::StartsWith(h->second, "being read")
            ? "; delete it once that ended"
            : "; end the hold first (`dxbackup show " + set_id + "`)"));
  }
  v1::ListSetsRequest same;
  same.set_namespace_(set->namespace_());
  same.set_release(set->release());
  auto others = sets_->ListSets(same);
  if (!others.ok()) return others.status();
  for (const v1::BackupSet& other : *others) {
    if (other.base_set_id() == set_id && other.status() != v1::SET_EXPIRING) {
      return absl::FailedPreconditionError(absl::StrCat(
          "set ", set_id, " is the base of set ", other.id(), " (",
          v1::BackupLevel_Name(other.level()),
          "), which needs it to be restored: delete ", other.id(), " first"));
    }
  }
  auto locked = sets_->LockedSets(clock_->NowUnix());
  if (!locked.ok()) return locked.status();
  if (auto until = locked->find(set_id); until != locked->end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("set ", set_id, " has objects locked in the store until ",
                     absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                      absl::FromUnixSeconds(until->second),
                                      absl::UTCTimeZone()),
                     " (Object Lock); it can be deleted after that"));
  }
  std::string reader;
  if (!BeginRemoval(set_id, &reader)) {
    return absl::FailedPreconditionError(
        absl::StrCat("set ", set_id, " is being read by ", reader,
                     "; delete it once that ended"));
  }
  absl::Status removed = Remove(*set, /*by_hand=*/true);
  if (leases_ != nullptr) leases_->FinishRemoval(set_id);
  if (!removed.ok()) return removed;
  v1::DeleteSetResponse response;
  *response.mutable_set() = *set;
  response.set_removed_bytes(set->bytes());
  return response;
}

absl::Status Pruner::Remove(v1::BackupSet set, bool by_hand) {
  set.set_status(v1::SET_EXPIRING);
  absl::Status st = sets_->UpdateSet(set);
  if (!st.ok()) return st;
  auto artifacts = sets_->ListArtifacts(set.id());
  if (!artifacts.ok()) return artifacts.status();
  for (const v1::Artifact& a : *artifacts) {
    st = store_->Remove(a.path());
    if (!st.ok()) return st;
  }
  // And whatever else is stored under the set's prefix.
  auto leftovers = store_->List(ArtifactStore::RelativePath(
      set.namespace_(), set.release(), set.id(), ""));
  if (!leftovers.ok()) return leftovers.status();
  for (const StoredObject& leftover : *leftovers) {
    st = store_->Remove(leftover.key);
    if (!st.ok()) return st;
  }
  st = sets_->DeleteSet(set.id());
  if (!st.ok()) return st;
  if (metrics_ != nullptr) metrics_->SetRemoved(set, by_hand);
  DXLOG(INFO) << (by_hand ? "deleted by hand: set " : "retention removed set ")
              << set.id() << " of " << set.namespace_() << "/" << set.release()
              << " (policy " << (set.policy().empty() ? "none" : set.policy())
              << ")";
  return absl::OkStatus();
}

absl::Status Pruner::FinishInterrupted(const std::string& namespace_,
                                       const std::string& release) {
  std::lock_guard<std::mutex> lock(mu_);
  OptionalLock removal(set_removal_);  // no base goes while a set starts
  v1::ListSetsRequest filter;
  filter.set_status(v1::SET_EXPIRING);
  filter.set_namespace_(namespace_);
  filter.set_release(release);
  auto sets = sets_->ListSets(filter);
  if (!sets.ok()) return sets.status();
  for (const v1::BackupSet& s : *sets) {
    DXLOG(WARNING) << "finishing the removal of set " << s.id()
                   << " that an earlier scheduler began";
    absl::Status st = Remove(s);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
