#include "scheduler/policy/policy_queue.h"

#include <algorithm>

namespace dxbackup::scheduler {

void PolicyQueue::SetPlan(std::vector<PlanEntry> plan, absl::Time now) {
  std::map<PlanKey, PlanEntry> next;
  for (PlanEntry& entry : plan) {
    auto old = plan_.find(entry.key);
    if (old != plan_.end() && old->second.last_slot.has_value() &&
        (!entry.last_slot.has_value() ||
         *entry.last_slot < *old->second.last_slot)) {
      entry.last_slot = old->second.last_slot;
    }
    if (!entry.last_slot.has_value()) {
      entry.last_slot = entry.schedule.Previous(now);
    }
    PlanKey key = entry.key;
    next.emplace(key, std::move(entry));
  }
  plan_ = std::move(next);
  for (auto& [ns, keys] : queued_) {
    keys.erase(std::remove_if(keys.begin(), keys.end(),
                              [&](const PlanKey& k) {
                                return plan_.count(k) == 0 && !k.policy.empty();
                              }),
               keys.end());
  }
}

bool PolicyQueue::IsQueued(const PlanKey& key) const {
  auto it = queued_.find(key.namespace_);
  return it != queued_.end() && std::find(it->second.begin(), it->second.end(),
                                          key) != it->second.end();
}

size_t PolicyQueue::queued() const {
  size_t n = 0;
  for (const auto& [ns, keys] : queued_) n += keys.size();
  return n;
}

void PolicyQueue::Enqueue(const PlanKey& key) {
  if (!IsQueued(key)) queued_[key.namespace_].push_back(key);
}

bool PolicyQueue::CanStart(const PlanKey& key) const {
  if (running_deployments_.count(key.Deployment()) != 0) return false;
  if (limits_.max_sets > 0 &&
      static_cast<int>(running_.size()) >= limits_.max_sets) {
    return false;
  }
  if (limits_.max_sets_per_namespace > 0) {
    auto it = running_per_namespace_.find(key.namespace_);
    if (it != running_per_namespace_.end() &&
        it->second >= limits_.max_sets_per_namespace) {
      return false;
    }
  }
  return true;
}

PolicyQueue::TickResult PolicyQueue::Tick(
    absl::Time now, const std::set<std::string>& waiting) {
  TickResult result;
  for (auto& [key, entry] : plan_) {
    const absl::Time due = entry.schedule.Previous(now);
    if (due != absl::InfinitePast() && due > *entry.last_slot) {
      entry.last_slot = due;
      result.slots_taken.emplace_back(key, due);
      Enqueue(key);
    }
  }
  // Namespaces in turn, starting after the one served last.
  std::vector<std::string> order;
  for (const auto& [ns, keys] : queued_) {
    if (!keys.empty()) order.push_back(ns);
  }
  std::rotate(
      order.begin(),
      std::upper_bound(order.begin(), order.end(), last_served_namespace_),
      order.end());
  for (bool progress = true; progress;) {
    progress = false;
    for (const std::string& ns : order) {
      std::deque<PlanKey>& keys = queued_[ns];
      for (auto it = keys.begin(); it != keys.end(); ++it) {
        if (waiting.count(it->Deployment()) != 0 || !CanStart(*it)) continue;
        const PlanKey key = *it;
        keys.erase(it);
        running_.insert(key);
        ++running_per_namespace_[key.namespace_];
        running_deployments_.insert(key.Deployment());
        last_served_namespace_ = ns;
        result.start.push_back(key);
        progress = true;
        break;  // one per namespace per round: take turns
      }
    }
  }
  for (auto it = queued_.begin(); it != queued_.end();) {
    for (const PlanKey& key : it->second) {
      if (waiting.count(key.Deployment()) != 0) result.waiting.push_back(key);
    }
    it = it->second.empty() ? queued_.erase(it) : std::next(it);
  }
  return result;
}

void PolicyQueue::Finished(const PlanKey& key) {
  if (running_.erase(key) == 0) return;
  if (--running_per_namespace_[key.namespace_] <= 0) {
    running_per_namespace_.erase(key.namespace_);
  }
  running_deployments_.erase(key.Deployment());
}

void PolicyQueue::Requeue(const PlanKey& key) {
  Finished(key);
  std::deque<PlanKey>& q = queued_[key.namespace_];
  if (std::find(q.begin(), q.end(), key) == q.end()) q.push_front(key);
}

void PolicyQueue::Drop(const PlanKey& key) {
  auto it = queued_.find(key.namespace_);
  if (it == queued_.end()) return;
  std::deque<PlanKey>& q = it->second;
  q.erase(std::remove(q.begin(), q.end(), key), q.end());
  if (q.empty()) queued_.erase(it);
}

absl::Time PolicyQueue::NextSlot(absl::Time now) const {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [key, entry] : plan_) {
    next = std::min(next, entry.schedule.Next(now));
  }
  return next;
}

std::optional<absl::Time> PolicyQueue::NextSlotOf(const PlanKey& key,
                                                  absl::Time now) const {
  auto it = plan_.find(key);
  if (it == plan_.end()) return std::nullopt;
  return it->second.schedule.Next(now);
}

}  // namespace dxbackup::scheduler
