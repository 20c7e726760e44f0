#include "scheduler/periodic/policy_slots.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/policy/selector_match.h"

namespace dxbackup::scheduler {
PolicySlots::PolicySlots(const v1::SchedulerConfig& config,
                         ScheduleSlotCatalog* slots, AgentRegistry* registry,
                         RunStarter* starter, std::function<void()> wake,
                         EndFn on_end)
    : config_(config),
      slot_catalog_(slots),
      registry_(registry),
      starter_(starter),
      wake_(std::move(wake)),
      on_end_(std::move(on_end)),
      queue_({config.limits().max_sets(),
              config.limits().max_sets_per_namespace()}) {}

absl::Status PolicySlots::Load() {
  auto slots = slot_catalog_->ScheduleSlots();
  if (!slots.ok()) return slots.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : *slots) {
    slots_[{s.policy, s.namespace_, s.release}] =
        absl::FromUnixSeconds(s.last_slot_unix);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> PolicySlots::AdoptStoredSlotsLocked() {
  auto slots = slot_catalog_->ScheduleSlots();
  if (!slots.ok()) {
    DXLOG(ERROR) << slots.status().message();
    return slots.status();
  }
  bool adopted = false;
  for (const auto& s : *slots) {
    adopted = slots_
                  .emplace(PlanKey{s.policy, s.namespace_, s.release},
                           absl::FromUnixSeconds(s.last_slot_unix))
                  .second ||
              adopted;
  }
  return adopted;
}

void PolicySlots::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ended_cv_.notify_all();
}

const v1::Policy* PolicySlots::FindPolicy(const std::string& name) const {
  for (const v1::Policy& p : config_.policies()) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

std::vector<PlanEntry> PolicySlots::BuildPlan(const std::string& only,
                                              bool everywhere) {
  // Deployments: configured ones, and those agents registered for.
  std::map<std::pair<std::string, std::string>, std::vector<v1::AgentInfo>>
      deployments;
  for (const v1::Deployment& d : config_.deployments()) {
    deployments[{d.namespace_(), d.release()}];
  }
  for (const v1::AgentInfo& a : registry_->AllAgents()) {
    deployments[{a.namespace_(), a.release()}].push_back(a);
  }
  std::vector<PlanEntry> plan;
  for (const v1::Policy& p : config_.policies()) {
    if (!only.empty() && p.name() != only) continue;
    const absl::TimeZone tz = *LoadZone(p.time_zone());  // checked at load
    for (const auto& [deployment, agents] : deployments) {
      const auto& [ns, release] = deployment;
      if (!SelectsDeployment(p.selector(), ns, release)) continue;
      if (!everywhere && !InScope(scope_, ns, release)) continue;
      bool has_agent = p.selector().component().empty() &&
                       p.selector().agent_labels().empty();
      for (const v1::AgentInfo& a : agents) {
        bool fits = p.selector().component().empty() ||
                    a.component() == p.selector().component();
        for (const auto& [k, v] : p.selector().agent_labels()) {
          auto it = a.labels().find(k);
          fits = fits && it != a.labels().end() && it->second == v;
        }
        has_agent = has_agent || fits;
      }
      if (!has_agent) continue;
      PlanKey key{p.name(), ns, release};
      auto schedule = CronSchedule::Parse(p.schedule(), ns + "/" + release, tz);
      if (!schedule.ok()) continue;  // checked at load
      std::optional<absl::Time> last;
      auto it = slots_.find(key);
      if (it != slots_.end()) last = it->second;
      plan.push_back({key, *schedule, last});
    }
  }
  return plan;
}

void PolicySlots::Run(absl::Time now) {
  PolicyQueue::TickResult tick;
  std::vector<std::pair<PlanKey, absl::Time>> new_entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    last_tick_ = now;
    if (now >= retry_at_) retry_at_ = absl::InfiniteFuture();
    std::vector<PlanEntry> plan = BuildPlan("");
    // An entry new here may have a slot in the catalog: another replica
    // ran the deployment since Load (it was taken over from one). Looked
    // up once per entry; a lookup that failed leaves the new entries for
    // the next tick (a baseline now could pass a slot that one missed).
    bool looked_up = true;
    if (std::any_of(plan.begin(), plan.end(), [this](const PlanEntry& e) {
          return !e.last_slot && looked_up_.count(e.key) == 0;
        })) {
      absl::StatusOr<bool> adopted = AdoptStoredSlotsLocked();
      looked_up = adopted.ok();
      for (const PlanEntry& e : plan) {
        if (looked_up && !e.last_slot) looked_up_.insert(e.key);
      }
      if (looked_up && *adopted) plan = BuildPlan("");
    }
    for (PlanEntry& e : plan) {
      if (e.last_slot.has_value() || !looked_up) continue;
      // A new entry waits for its next slot. Its baseline (the slot
      // before) goes to the catalog, so that a scheduler taking over
      // from this one owes that next slot too, rather than waiting for
      // the one after.
      const absl::Time baseline = e.schedule.Previous(now);
      if (baseline == absl::InfinitePast()) continue;
      e.last_slot = baseline;
      slots_[e.key] = baseline;
      new_entries.emplace_back(e.key, baseline);
    }
    const bool first_tick = hold_until_ == absl::InfinitePast();
    if (first_tick) hold_until_ = now + kReconnectGrace;
    // A deployment that enters the plan later (taken over from a replica
    // that stopped) gives its agents the same grace, from then.
    bool graced = now < hold_until_;
    for (const PlanEntry& e : plan) {
      const std::string deployment = e.key.Deployment();
      if (planned_.insert(deployment).second && !first_tick) {
        grace_until_[deployment] = now + kReconnectGrace;
      }
      auto grace = grace_until_.find(deployment);
      graced = graced || (grace != grace_until_.end() && now < grace->second);
    }
    // Runs of deployments whose agents are awaited stay queued, so that
    // they take no place the limits would give another run.
    std::set<std::string> awaiting;
    if (graced) {
      for (const std::string& deployment : registry_->DeploymentsAwaitingAgents(
               absl::ToInt64Seconds(kExpectAgentsSeenWithin))) {
        auto grace = grace_until_.find(deployment);
        if (now < hold_until_ ||
            (grace != grace_until_.end() && now < grace->second)) {
          awaiting.insert(deployment);
        }
      }
    }
    queue_.SetPlan(std::move(plan), now);
    tick = queue_.Tick(now, awaiting);
    for (const auto& [key, slot] : tick.slots_taken) {
      slots_[key] = slot;
      unclaimed_[key] = slot;
    }
    for (const PlanKey& key : tick.waiting) {
      if (!held_.insert(key).second) continue;
      auto grace = grace_until_.find(key.Deployment());
      const absl::Time until = grace == grace_until_.end()
                                   ? hold_until_
                                   : std::max(hold_until_, grace->second);
      DXLOG(INFO) << "policy " << key.policy << ": the run of "
                  << key.Deployment()
                  << " waits for its agents to come back to this scheduler "
                     "(until "
                  << absl::FormatTime("%H:%M:%SZ", until, absl::UTCTimeZone())
                  << " at most)";
    }
  }
  for (const auto& [key, baseline] : new_entries) {
    // Recorded only where the catalog has no slot of the entry yet.
    absl::StatusOr<bool> recorded = slot_catalog_->ClaimScheduleSlot(
        {key.policy, key.namespace_, key.release,
         absl::ToUnixSeconds(baseline)});
    if (!recorded.ok()) DXLOG(ERROR) << recorded.status().message();
  }
  for (const PlanKey& key : tick.start) {
    bool requested = false;
    if (ClaimSlotOf(key, &requested)) StartRun(key, requested);
  }
}

bool PolicySlots::ClaimSlotOf(const PlanKey& key, bool* requested_run) {
  absl::Time slot;
  *requested_run = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = unclaimed_.find(key);
    if (it == unclaimed_.end()) {
      *requested_run = requested_.erase(key) != 0;
      return true;  // a RunNow, or a run the limits held back: no slot
    }
    // Unclaimed until the catalog answers: a RunNow meanwhile joins this
    // run (RunNow), and is seen below.
    slot = it->second;
  }
  // A slot is claimed in the catalog when its run starts, not when it is
  // queued: a run still waiting for the local queue's limits when its
  // scheduler dies is then owed by the one that takes over. (One the
  // catalog's limits refused after its claim is not: limits_in_catalog
  // is for replicas, which are not wired yet.) Of schedulers sharing the
  // catalog, only the one that claims the slot runs it.
  absl::StatusOr<bool> claimed = slot_catalog_->ClaimScheduleSlot(
      {key.policy, key.namespace_, key.release, absl::ToUnixSeconds(slot)});
  bool requested;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = unclaimed_.find(key);
    if (it != unclaimed_.end() && it->second == slot) unclaimed_.erase(it);
    requested = requested_.erase(key) != 0;
    *requested_run = requested;
  }
  if (!claimed.ok()) {
    // Run anyway: a slot missed is worse than one the catalog did not
    // record (a single scheduler's catalog cannot have lost a race).
    DXLOG(ERROR) << claimed.status().message();
    return true;
  }
  if (*claimed || requested) return true;  // `backup --policy` runs anyway
  DXLOG(INFO) << "policy " << key.policy << ": the slot of " << key.Deployment()
              << " was taken by another scheduler sharing the catalog";
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.Finished(key);
  }
  wake_();  // what waited for the limits may start
  return false;
}

absl::Time PolicySlots::NextDue(absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::min(queue_.NextSlot(now), retry_at_);
}

void PolicySlots::StartRun(const PlanKey& key, bool requested) {
  const v1::Policy* policy = FindPolicy(key.policy);
  v1::BackupRequest request;
  request.set_namespace_(key.namespace_);
  request.set_release(key.release);
  request.set_policy(key.policy);
  if (policy != nullptr) {
    *request.mutable_options() = policy->capture();
    request.set_component(policy->selector().component());
    *request.mutable_agent_labels() = policy->selector().agent_labels();
  }
  DXLOG(INFO) << "policy " << key.policy << ": starting a set of "
              << key.Deployment();
  absl::Status started = starter_->Start(
      request, [this, key](const v1::BackupSet& set) { RunEnded(key, set); });
  if (absl::IsResourceExhausted(started)) {
    // Its slot is claimed and stays this scheduler's: it waits, queued.
    std::lock_guard<std::mutex> lock(mu_);
    queue_.Requeue(key);
    // A `backup --policy` run still runs when it starts, whatever slot
    // another scheduler claims meanwhile.
    if (requested) requested_.insert(key);
    retry_at_ = std::min(retry_at_, last_tick_ + kLimitedRetry);
    if (limited_.insert(key).second) {
      DXLOG(INFO) << "policy " << key.policy << ": " << key.Deployment()
                  << " waits: " << started.message();
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    limited_.erase(key);
  }
  if (!started.ok()) {
    v1::BackupSet failed;
    failed.set_namespace_(key.namespace_);
    failed.set_release(key.release);
    failed.set_policy(key.policy);
    failed.set_status(v1::SET_FAILED);
    failed.set_reason(std::string(started.message()));
    DXLOG(WARNING) << "policy " << key.policy << ": " << key.Deployment()
                   << ": " << failed.reason();
    RunEnded(key, failed);
  }
}

void PolicySlots::RunEnded(const PlanKey& key, const v1::BackupSet& set) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.Finished(key);
    ended_[key] = Ended{++generation_, set};
  }
  ended_cv_.notify_all();
  wake_();
  if (const v1::Policy* policy = FindPolicy(key.policy)) {
    on_end_(*policy, key, set);
  }
}

absl::StatusOr<PolicySlots::Ticket> PolicySlots::RunNow(
    const std::string& policy) {
  if (FindPolicy(policy) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no policy ", policy,
                     " in the config; `dxbackup policies` lists them"));
  }
  Ticket ticket;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PlanEntry> plan = BuildPlan(policy);
  if (plan.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy ", policy,
                     " covers no deployment now: check its selector "
                     "against `dxbackup agents`"));
  }
  ticket.generation = generation_;
  for (const PlanEntry& e : plan) {
    requested_.insert(e.key);
    ticket.keys.push_back(e.key);
    // A run the queue has just started, its slot not claimed yet, is the
    // run asked for: the request goes with it (it runs even where another
    // scheduler claimed the slot), rather than a second run behind it.
    if (queue_.IsRunning(e.key) && unclaimed_.count(e.key) != 0) continue;
    queue_.Enqueue(e.key);
  }
  return ticket;
}

void PolicySlots::Follow(
    const Ticket& ticket,
    const std::function<bool(const v1::BackupSet&)>& on_set) {
  std::set<PlanKey> waiting(ticket.keys.begin(), ticket.keys.end());
  auto ended_since = [&](const PlanKey& k) {
    auto ended = ended_.find(k);
    return ended != ended_.end() &&
           ended->second.generation > ticket.generation;
  };
  std::unique_lock<std::mutex> lock(mu_);
  while (!waiting.empty() && !stopping_) {
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (ended_since(*it)) {
        const v1::BackupSet set = ended_.find(*it)->second.set;
        it = waiting.erase(it);
        lock.unlock();
        const bool go_on = on_set(set);
        lock.lock();
        if (!go_on) return;
      } else {
        ++it;
      }
    }
    if (!waiting.empty()) {
      ended_cv_.wait(lock, [&] {
        if (stopping_) return true;
        for (const PlanKey& k : waiting) {
          if (ended_since(k)) return true;
        }
        return false;
      });
    }
  }
}

std::vector<PlanKey> PolicySlots::Covered(bool everywhere) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PlanKey> keys;
  for (PlanEntry& entry : BuildPlan("", everywhere)) {
    keys.push_back(std::move(entry.key));
  }
  return keys;
}

v1::ListPoliciesResponse PolicySlots::Describe(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PlanEntry> plan = BuildPlan("");
  v1::ListPoliciesResponse response;
  std::map<std::string, v1::PolicyInfo*> infos;
  for (const v1::Policy& p : config_.policies()) {
    v1::PolicyInfo* info = response.add_policies();
    info->set_name(p.name());
    info->set_schedule(p.schedule());
    info->set_time_zone(p.time_zone().empty() ? "UTC" : p.time_zone());
    infos[p.name()] = info;
  }
  for (const PlanEntry& e : plan) {
    v1::PolicyTarget* t = infos[e.key.policy]->add_targets();
    t->set_namespace_(e.key.namespace_);
    t->set_release(e.key.release);
    t->set_next_run_unix(absl::ToUnixSeconds(e.schedule.Next(now)));
    auto slot = slots_.find(e.key);
    if (slot != slots_.end()) {
      t->set_last_slot_unix(absl::ToUnixSeconds(slot->second));
    }
    t->set_queued(queue_.IsQueued(e.key));
    t->set_running(queue_.IsRunning(e.key));
  }
  return response;
}

}  // namespace dxbackup::scheduler
