#include "scheduler/periodic/policy_verifier.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/policy/cron_schedule.h"

namespace dxbackup::scheduler {
namespace {

constexpr char kSlotPrefix[] = "verify:";
// Slots older than this are not walked one by one: they collapse anyway.
constexpr absl::Duration kLongestGap = absl::Hours(24 * 400);

absl::StatusOr<CronSchedule> VerifyScheduleOf(const v1::Policy& policy) {
  absl::StatusOr<absl::TimeZone> tz = LoadZone(policy.time_zone());
  if (!tz.ok()) return tz.status();
  return CronSchedule::Parse(policy.verify().schedule(),
                             VerifySlotKey(policy.name()), *tz);
}

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

std::string VerifySlotKey(const std::string& policy) {
  return kSlotPrefix + policy;
}

PolicyVerifier::PolicyVerifier(const v1::SchedulerConfig& config,
                               SetCatalog* sets, ScheduleSlotCatalog* slots,
                               ArtifactStore* store, const common::Clock* clock,
                               const crypto::KeyRing* keys, NoticeSink* notices)
    : config_(config),
      sets_(sets),
      slot_catalog_(slots),
      verifier_(sets, store, clock, keys, notices) {}

PolicyVerifier::~PolicyVerifier() { Join(); }

absl::Status PolicyVerifier::Load(absl::Time now) {
  auto slots = slot_catalog_->ScheduleSlots();
  if (!slots.ok()) return slots.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::Policy& p : config_.policies()) {
    if (p.has_verify()) slots_[p.name()] = Slot{now, false};
  }
  for (const ScheduleSlotCatalog::ScheduleSlot& s : *slots) {
    if (!absl::StartsWith(s.policy, kSlotPrefix)) continue;
    const std::string name = s.policy.substr(sizeof kSlotPrefix - 1);
    auto it = slots_.find(name);
    if (it != slots_.end()) {
      it->second = Slot{absl::FromUnixSeconds(s.last_slot_unix), true};
    }
  }
  return absl::OkStatus();
}

std::vector<const v1::Policy*> PolicyVerifier::TakeDue(absl::Time now) {
  std::vector<const v1::Policy*> due;
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::Policy& p : config_.policies()) {
    auto last = slots_.find(p.name());
    if (last == slots_.end() || running_.count(p.name())) continue;
    absl::StatusOr<CronSchedule> schedule = VerifyScheduleOf(p);
    if (!schedule.ok()) continue;  // checked when the config was loaded
    std::optional<absl::Time> slot = DueSlot(*schedule, last->second.last, now);
    if (!slot) continue;
    last->second = Slot{*slot, true};
    absl::Status saved = slot_catalog_->SaveScheduleSlot(
        {VerifySlotKey(p.name()), "", "", absl::ToUnixSeconds(*slot)});
    if (!saved.ok()) DXLOG(ERROR) << saved.message();
    running_.insert(p.name());
    due.push_back(&p);
  }
  return due;
}

int PolicyVerifier::VerifyPolicy(const v1::Policy& policy) {
  v1::ListSetsRequest filter;
  filter.set_policy(policy.name());
  filter.set_status(v1::SET_COMPLETE);
  auto sets = sets_->ListSets(filter);
  int verified = 0, corrupt = 0;
  if (!sets.ok()) {
    DXLOG(ERROR) << "verify of policy " << policy.name() << ": "
                 << sets.status().message();
  } else {
    for (auto it = sets->rbegin(); it != sets->rend(); ++it) {
      auto result = verifier_.Verify(it->id(), policy.verify().deep());
      if (absl::IsFailedPrecondition(result.status()) ||
          absl::IsPermissionDenied(result.status())) {
        // Encrypted, and the scheduler has no key that opens it: the
        // stored bytes are still proven whole.
        DXLOG(WARNING) << "deep verify of set " << it->id()
                       << " needs a secret key the scheduler does not have ("
                       << result.status().message()
                       << "); to check its contents on schedule, add that "
                          "key's identity file to encryption.identity_files. "
                          "Checking its stored bytes only";
        result = verifier_.Verify(it->id(), /*deep=*/false);
      }
      if (!result.ok()) {  // the set was pruned meanwhile, or the catalog
        DXLOG(WARNING) << "verify of set " << it->id() << ": "
                       << result.status().message();
        continue;
      }
      ++verified;
      if (result->set().verification().result() == v1::Verification::CORRUPT) {
        ++corrupt;
        DXLOG(ERROR) << "set " << it->id() << " of " << it->namespace_() << "/"
                     << it->release() << " is corrupt: "
                     << result->set().verification().detail();
      }
    }
    DXLOG(INFO) << "policy " << policy.name() << ": verified " << verified
                << " sets" << (policy.verify().deep() ? " (deep)" : "") << ", "
                << corrupt << " corrupt";
  }
  std::lock_guard<std::mutex> lock(mu_);
  running_.erase(policy.name());
  return verified;
}

void PolicyVerifier::StartDue(absl::Time now) {
  for (const v1::Policy* p : TakeDue(now)) {
    threads_.Start([this, p] { VerifyPolicy(*p); });
  }
}

int PolicyVerifier::RunDue(absl::Time now) {
  int verified = 0;
  for (const v1::Policy* p : TakeDue(now)) verified += VerifyPolicy(*p);
  return verified;
}

absl::Time PolicyVerifier::NextDue(absl::Time now) const {
  absl::Time next = absl::InfiniteFuture();
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::Policy& p : config_.policies()) {
    if (!slots_.count(p.name())) continue;
    absl::StatusOr<CronSchedule> schedule = VerifyScheduleOf(p);
    if (schedule.ok()) next = std::min(next, schedule->Next(now));
  }
  return next;
}

void PolicyVerifier::Describe(v1::ListPoliciesResponse* response,
                              absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (v1::PolicyInfo& info : *response->mutable_policies()) {
    auto last = slots_.find(info.name());
    if (last == slots_.end()) continue;
    for (const v1::Policy& p : config_.policies()) {
      if (p.name() != info.name()) continue;
      absl::StatusOr<CronSchedule> schedule = VerifyScheduleOf(p);
      info.set_verify_schedule(p.verify().schedule() +
                               (p.verify().deep() ? " (deep)" : ""));
      if (schedule.ok()) {
        info.set_next_verify_unix(absl::ToUnixSeconds(schedule->Next(now)));
      }
      if (last->second.taken) {
        info.set_last_verify_slot_unix(absl::ToUnixSeconds(last->second.last));
      }
    }
  }
}

}  // namespace dxbackup::scheduler
