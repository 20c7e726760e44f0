#include "scheduler/periodic/policy_loop.h"

#include "common/log.h"

namespace dxbackup::scheduler {

PolicyLoop::PolicyLoop(const Parts& parts)
    : scoped_(static_cast<bool>(parts.scope)),
      time_(parts.time),
      pruner_(parts.pruner),
      starter_(parts.backups,
               parts.limits_in_catalog
                   ? std::optional<SetLimits>(SetLimits{
                         parts.config->limits().max_sets(),
                         parts.config->limits().max_sets_per_namespace()})
                   : std::nullopt),
      after_set_(parts.sets, parts.store, parts.time, parts.pruner,
                 parts.copy_stores, parts.file_index),
      verifier_(*parts.config, parts.sets, parts.slots, parts.store, parts.time,
                parts.keys, parts.notices),
      ticker_(parts.time),
      slots_(
          *parts.config, parts.slots, parts.registry, &starter_,
          [this] { ticker_.Wake(); },
          [this](const v1::Policy& policy, const PlanKey& key,
                 const v1::BackupSet& set) {
            after_set_.Ended(policy, key, set);
          }),
      liveness_(*parts.config, parts.registry),
      forget_gone_(*parts.config, parts.registry, parts.scope),
      stalled_runs_(*parts.config, parts.board),
      prune_(*parts.config, parts.pruner, parts.file_index),
      verify_(&verifier_) {
  if (parts.leases != nullptr) {
    verifier_.LeaseFrom(parts.leases);
  }
  slots_.LimitTo(parts.scope);
  if (scoped_) verifier_.LimitTo(parts.scope);
  ticker_.Register(&liveness_);
  ticker_.Register(&forget_gone_);
  ticker_.Register(&stalled_runs_);
  ticker_.Register(&slots_);
  ticker_.Register(&verify_);
  if (parts.notices != nullptr) {
    stale_.emplace(
        *parts.config, parts.sets, [this] { return slots_.Covered(); },
        parts.notices);
    ticker_.Register(&*stale_);
  }
  if (parts.driller != nullptr) {
    driller_.emplace(*parts.config, parts.sets, parts.slots, parts.driller,
                     [this] { return slots_.Covered(); });
    if (scoped_) driller_->ShareAmongReplicas();
    drill_.emplace(&*driller_);
    ticker_.Register(&*drill_);
  }
  ticker_.Register(&prune_);
  if (!parts.owed_post_hooks.empty() || scoped_) {
    owed_.emplace(OwedPostHooksTask::Parts{parts.config, parts.registry,
                                           parts.board, parts.sets, parts.time},
                  parts.owed_post_hooks, Now());
    ticker_.Register(&*owed_);
  }
  for (PeriodicTask* task : parts.more_tasks) ticker_.Register(task);
}

PolicyLoop::~PolicyLoop() { Stop(); }

absl::Time PolicyLoop::Now() const { return absl::FromChrono(time_->Now()); }

absl::Status PolicyLoop::Start() {
  absl::Status st = slots_.Load();
  if (!st.ok()) return st;
  if (!scoped_) {
    st = pruner_->FinishInterrupted();
    if (!st.ok()) return st;
  }
  st = verifier_.Load(Now());
  if (!st.ok()) return st;
  if (driller_.has_value()) {
    st = driller_->Load(Now());
    if (!st.ok()) return st;
  }
  ticker_.Start();
  return absl::OkStatus();
}

void PolicyLoop::Stop() {
  slots_.Stop();
  ticker_.Stop();
  if (owed_.has_value()) owed_->Stop();
  verifier_.Join();
  if (driller_.has_value()) driller_->Join();
}

absl::StatusOr<PolicyLoop::Ticket> PolicyLoop::RunNow(
    const std::string& policy) {
  absl::StatusOr<Ticket> ticket = slots_.RunNow(policy);
  if (ticket.ok()) ticker_.Wake();
  return ticket;
}

void PolicyLoop::Follow(
    const Ticket& ticket,
    const std::function<bool(const v1::BackupSet&)>& on_set) {
  slots_.Follow(ticket, on_set);
}

void PolicyLoop::Owe(std::vector<OwedPostHooks> owed, absl::Time since) {
  if (owed.empty()) return;
  if (!owed_.has_value()) {
    DXLOG(ERROR) << "post-hooks owed by " << owed.size()
                 << " set(s) cannot be run: this scheduler was not started "
                    "to take deployments over";
    return;
  }
  owed_->Owe(std::move(owed), since);
  ticker_.Wake();
}

v1::ListPoliciesResponse PolicyLoop::Describe() {
  const absl::Time now = Now();
  v1::ListPoliciesResponse response = slots_.Describe(now);
  verifier_.Describe(&response, now);
  if (driller_.has_value()) driller_->Describe(&response, now);
  return response;
}

}  // namespace dxbackup::scheduler
