#include "scheduler/replicas/orphan_adoption.h"

#include "common/log.h"

namespace dxbackup::scheduler {

absl::StatusOr<std::set<std::pair<std::string, std::string>>>
DeploymentsWithUnfinishedWork(SetCatalog& sets) {
  std::set<std::pair<std::string, std::string>> unfinished;
  for (const v1::SetStatus status : {v1::SET_RUNNING, v1::SET_EXPIRING}) {
    v1::ListSetsRequest filter;
    filter.set_status(status);
    auto listed = sets.ListSets(filter);
    if (!listed.ok()) return listed.status();
    for (const v1::BackupSet& set : *listed) {
      unfinished.emplace(set.namespace_(), set.release());
    }
  }
  auto holds = sets.Holds();
  if (!holds.ok()) return holds.status();
  for (const v1::DeploymentHold& hold : *holds) {
    if (hold.running()) unfinished.emplace(hold.namespace_(), hold.release());
  }
  auto scaled = sets.ScaledDowns();
  if (!scaled.ok()) return scaled.status();
  for (const SetCatalog::ScaledDown& s : *scaled) {
    unfinished.emplace(s.namespace_, s.release);
  }
  return unfinished;
}

absl::StatusOr<std::set<std::pair<std::string, std::string>>>
OrphanAdoptionTask::LiveOwned() {
  std::set<std::pair<std::string, std::string>> owned;
  absl::StatusOr<std::vector<ReplicaCatalog::Replica>> live =
      replicas_->LiveReplicas();
  if (!live.ok()) return live.status();
  for (const ReplicaCatalog::Replica& replica : *live) {
    auto theirs = replicas_->OwnedDeployments(replica.id);
    if (!theirs.ok()) return theirs.status();
    for (const ReplicaCatalog::Deployment& d : *theirs) {
      owned.emplace(d.namespace_, d.release);
    }
  }
  return owned;
}

void OrphanAdoptionTask::Run(absl::Time now) {
  if (now < last_ + kEvery && now >= last_) return;
  last_ = now;
  auto unfinished = DeploymentsWithUnfinishedWork(*sets_);
  if (!unfinished.ok()) {
    DXLOG(WARNING) << "looking for deployments other replicas left: "
                   << unfinished.status().message();
    return;
  }
  std::set<std::pair<std::string, std::string>> to_route =
      std::move(*unfinished);
  if (covered_ && now >= claim_covered_from_) {
    absl::StatusOr<std::set<std::pair<std::string, std::string>>> owned =
        LiveOwned();
    if (!owned.ok()) {
      DXLOG(WARNING) << "looking for deployments no replica runs: "
                     << owned.status().message();
    } else {
      for (auto& deployment : covered_()) {
        if (owned->count(deployment) == 0) {
          to_route.insert(std::move(deployment));
        }
      }
    }
  }
  for (const auto& [ns, release] : to_route) {
    absl::StatusOr<std::string> routed = router_->Route(ns, release);
    if (!routed.ok()) {
      DXLOG(WARNING) << routed.status().message() << "; tried again in "
                     << absl::FormatDuration(kEvery);
    }
  }
}

}  // namespace dxbackup::scheduler
