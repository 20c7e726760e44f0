#include "scheduler/periodic/secondary_schedules.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "common/log.h"
#include "scheduler/policy/cron_schedule.h"

namespace dxbackup::scheduler {
namespace {

// Slots older than this are not walked one by one: they collapse anyway.
constexpr absl::Duration kLongestGap = absl::Hours(24 * 400);

// The newest slot in (last, now], if any.
std::optional<absl::Time> DueSlot(const CronSchedule& schedule, absl::Time last,
                                  absl::Time now) {
  absl::Time slot = schedule.Next(std::max(last, now - kLongestGap));
  if (slot > now) return std::nullopt;
  for (absl::Time next = schedule.Next(slot); next <= now;
       next = schedule.Next(slot)) {
    slot = next;
  }
  return slot;
}

}  // namespace

SecondarySchedules::SecondarySchedules(const v1::SchedulerConfig& config,
                                       ScheduleSlotCatalog* slots,
                                       std::string prefix,
                                       ScheduleOf schedule_of)
    : config_(config),
      slot_catalog_(slots),
      prefix_(std::move(prefix)),
      schedule_of_(std::move(schedule_of)) {}

std::string SecondarySchedules::SlotKey(const std::string& policy) const {
  return prefix_ + policy;
}

absl::Status SecondarySchedules::Load(absl::Time now) {
  auto slots = slot_catalog_->ScheduleSlots();
  if (!slots.ok()) return slots.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::Policy& p : config_.policies()) {
    if (!schedule_of_(p).empty()) slots_[p.name()] = Slot{now, false};
  }
  for (const ScheduleSlotCatalog::ScheduleSlot& s : *slots) {
    if (!absl::StartsWith(s.policy, prefix_)) continue;
    auto it = slots_.find(s.policy.substr(prefix_.size()));
    if (it != slots_.end()) {
      it->second = Slot{absl::FromUnixSeconds(s.last_slot_unix), true};
    }
  }
  return absl::OkStatus();
}

std::vector<const v1::Policy*> SecondarySchedules::TakeDue(absl::Time now) {
  std::vector<const v1::Policy*> due;
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::Policy& p : config_.policies()) {
    auto last = slots_.find(p.name());
    if (last == slots_.end() || running_.count(p.name())) continue;
    absl::StatusOr<absl::TimeZone> tz = LoadZone(p.time_zone());
    if (!tz.ok()) continue;  // checked when the config was loaded
    auto schedule =
        CronSchedule::Parse(schedule_of_(p), SlotKey(p.name()), *tz);
    if (!schedule.ok()) continue;
    std::optional<absl::Time> slot = DueSlot(*schedule, last->second.last, now);
    if (!slot) continue;
    last->second = Slot{*slot, true};
    // Of schedulers sharing the catalog, the one that claims it runs it
    // (replicas each run it, for their own deployments).
    absl::StatusOr<bool> claimed = slot_catalog_->ClaimScheduleSlot(
        {SlotKey(p.name()), "", "", absl::ToUnixSeconds(*slot)});
    if (!claimed.ok()) {
      DXLOG(ERROR) << claimed.status().message();
    } else if (!*claimed && !shared_) {
      continue;
    }
    running_.insert(p.name());
    due.push_back(&p);
  }
  return due;
}

void SecondarySchedules::Done(const v1::Policy& policy) {
  std::lock_guard<std::mutex> lock(mu_);
  running_.erase(policy.name());
}

absl::Time SecondarySchedules::NextDue(absl::Time now) const {
  absl::Time next = absl::InfiniteFuture();
  for (const v1::Policy& p : config_.policies()) {
    std::optional<Times> times = TimesOf(p.name(), now);
    if (times.has_value() && times->next.has_value()) {
      next = std::min(next, *times->next);
    }
  }
  return next;
}

std::optional<SecondarySchedules::Times> SecondarySchedules::TimesOf(
    const std::string& name, absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto last = slots_.find(name);
  if (last == slots_.end()) return std::nullopt;
  Times times;
  if (last->second.taken) times.last_taken = last->second.last;
  for (const v1::Policy& p : config_.policies()) {
    if (p.name() != name) continue;
    absl::StatusOr<absl::TimeZone> tz = LoadZone(p.time_zone());
    if (!tz.ok()) break;
    auto schedule = CronSchedule::Parse(schedule_of_(p), SlotKey(name), *tz);
    if (schedule.ok()) times.next = schedule->Next(now);
  }
  return times;
}

}  // namespace dxbackup::scheduler
