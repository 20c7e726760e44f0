#include "scheduler/periodic/policy_driller.h"

#include <optional>

#include "common/log.h"

namespace dxbackup::scheduler {
namespace {

// The newest of `sets` (by start) that `usable` takes; nullopt: none.
std::optional<v1::BackupSet> Newest(
    const std::vector<v1::BackupSet>& sets,
    const std::function<bool(const v1::BackupSet&)>& usable) {
  std::optional<v1::BackupSet> newest;
  for (const v1::BackupSet& s : sets) {
    if (!usable(s)) continue;
    if (!newest.has_value() || s.started_unix() > newest->started_unix()) {
      newest = s;
    }
  }
  return newest;
}

std::vector<v1::BackupSet> SetsOf(SetCatalog* sets, const std::string& ns,
                                  const std::string& release) {
  v1::ListSetsRequest filter;
  filter.set_namespace_(ns);
  filter.set_release(release);
  auto listed = sets->ListSets(filter);
  if (!listed.ok()) {
    DXLOG(WARNING) << "the catalog cannot list the sets of " << ns << "/"
                   << release << ": " << listed.status().message();
    return {};
  }
  return *std::move(listed);
}

}  // namespace

PolicyDriller::PolicyDriller(const v1::SchedulerConfig& config,
                             SetCatalog* sets, ScheduleSlotCatalog* slots,
                             SetDriller* driller, CoveredFn covered)
    : config_(config),
      sets_(sets),
      driller_(driller),
      covered_(std::move(covered)),
      slots_(config, slots, "drill:", [](const v1::Policy& p) {
        return p.drill().schedule();
      }) {}

PolicyDriller::~PolicyDriller() { Join(); }

int PolicyDriller::DrillPolicy(const v1::Policy& policy) {
  int drilled = 0;
  for (const PlanKey& key : covered_()) {
    if (key.policy != policy.name()) continue;
    std::optional<v1::BackupSet> newest =
        Newest(SetsOf(sets_, key.namespace_, key.release),
               [&policy](const v1::BackupSet& s) {
                 return s.policy() == policy.name() &&
                        s.status() == v1::SET_COMPLETE &&
                        s.verification().result() != v1::Verification::CORRUPT;
               });
    if (!newest.has_value()) {
      DXLOG(WARNING) << "drill of policy " << policy.name() << ": "
                     << key.Deployment() << " has no complete set to drill";
      continue;
    }
    v1::DrillRequest request;
    request.set_set_id(newest->id());
    request.set_to_dir(policy.drill().to_dir());
    request.set_to_agent(policy.drill().agent());
    request.set_to_namespace(policy.drill().namespace_());
    request.set_to_release(policy.drill().release());
    auto result = driller_->Drill(request);
    if (!result.ok()) {
      DXLOG(ERROR) << "drill of set " << newest->id() << ": "
                   << result.status().message();
      continue;
    }
    ++drilled;
  }
  slots_.Done(policy);
  return drilled;
}

void PolicyDriller::StartDue(absl::Time now) {
  for (const v1::Policy* p : slots_.TakeDue(now)) {
    threads_.Start([this, p] { DrillPolicy(*p); });
  }
}

int PolicyDriller::RunDue(absl::Time now) {
  int drilled = 0;
  for (const v1::Policy* p : slots_.TakeDue(now)) drilled += DrillPolicy(*p);
  return drilled;
}

void PolicyDriller::Describe(v1::ListPoliciesResponse* response,
                             absl::Time now) const {
  const int64_t now_unix = absl::ToUnixSeconds(now);
  for (v1::PolicyInfo& info : *response->mutable_policies()) {
    const v1::Policy* policy = nullptr;
    for (const v1::Policy& p : config_.policies()) {
      if (p.name() == info.name()) policy = &p;
    }
    if (policy == nullptr) continue;
    info.set_rpo_seconds(policy->rpo_seconds());
    info.set_rto_seconds(policy->rto_seconds());
    info.set_drill_schedule(policy->drill().schedule());
    if (auto times = slots_.TimesOf(info.name(), now)) {
      if (times->next)
        info.set_next_drill_unix(absl::ToUnixSeconds(*times->next));
      if (times->last_taken) {
        info.set_last_drill_slot_unix(absl::ToUnixSeconds(*times->last_taken));
      }
    }
    for (v1::PolicyTarget& t : *info.mutable_targets()) {
      const std::vector<v1::BackupSet> sets =
          SetsOf(sets_, t.namespace_(), t.release());
      std::optional<v1::BackupSet> complete =
          Newest(sets, [policy](const v1::BackupSet& s) {
            return s.policy() == policy->name() &&
                   s.status() == v1::SET_COMPLETE &&
                   s.verification().result() != v1::Verification::CORRUPT;
          });
      std::optional<v1::BackupSet> drilled;
      for (const v1::BackupSet& s : sets) {
        if (!s.has_drill()) continue;
        if (!drilled ||
            s.drill().drilled_unix() > drilled->drill().drilled_unix()) {
          drilled = s;
        }
      }
      if (complete) t.set_newest_complete_unix(complete->finished_unix());
      if (drilled) {
        t.set_last_drill_unix(drilled->drill().drilled_unix());
        t.set_last_drill_passed(drilled->drill().result() == v1::Drill::PASSED);
        t.set_last_drill_rto_seconds(drilled->drill().rto_seconds());
      }
      if (policy->rpo_seconds() > 0) {
        t.set_rpo_met(complete.has_value() &&
                      now_unix - complete->finished_unix() <=
                          policy->rpo_seconds());
      }
      if (policy->rto_seconds() > 0) {
        t.set_rto_met(drilled.has_value() && t.last_drill_passed() &&
                      t.last_drill_rto_seconds() <= policy->rto_seconds());
      }
    }
  }
}

}  // namespace dxbackup::scheduler
