#include "scheduler/periodic/policy_verifier.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/policy/cron_schedule.h"

namespace dxbackup::scheduler {

std::string VerifySlotKey(const std::string& policy) {
  return "verify:" + policy;
}

PolicyVerifier::PolicyVerifier(const v1::SchedulerConfig& config,
                               SetCatalog* sets, ScheduleSlotCatalog* slots,
                               ArtifactStore* store, const common::Clock* clock,
                               const crypto::KeyRing* keys, NoticeSink* notices)
    : config_(config),
      sets_(sets),
      verifier_(sets, store, clock, keys, notices),
      slots_(config, slots, "verify:", [](const v1::Policy& p) {
        return p.verify().schedule();
      }) {}

PolicyVerifier::~PolicyVerifier() { Join(); }

absl::Status PolicyVerifier::Load(absl::Time now) { return slots_.Load(now); }

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
      if (!InScope(scope_, it->namespace_(), it->release())) continue;
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
  slots_.Done(policy);
  return verified;
}

void PolicyVerifier::StartDue(absl::Time now) {
  for (const v1::Policy* p : slots_.TakeDue(now)) {
    threads_.Start([this, p] { VerifyPolicy(*p); });
  }
}

int PolicyVerifier::RunDue(absl::Time now) {
  int verified = 0;
  for (const v1::Policy* p : slots_.TakeDue(now)) {
    verified += VerifyPolicy(*p);
  }
  return verified;
}

absl::Time PolicyVerifier::NextDue(absl::Time now) const {
  return slots_.NextDue(now);
}

void PolicyVerifier::Describe(v1::ListPoliciesResponse* response,
                              absl::Time now) const {
  for (v1::PolicyInfo& info : *response->mutable_policies()) {
    std::optional<SecondarySchedules::Times> times =
        slots_.TimesOf(info.name(), now);
    if (!times.has_value()) continue;
    for (const v1::Policy& p : config_.policies()) {
      if (p.name() != info.name()) continue;
      info.set_verify_schedule(p.verify().schedule() +
                               (p.verify().deep() ? " (deep)" : ""));
    }
    if (times->next.has_value()) {
      info.set_next_verify_unix(absl::ToUnixSeconds(*times->next));
    }
    if (times->last_taken.has_value()) {
      info.set_last_verify_slot_unix(absl::ToUnixSeconds(*times->last_taken));
    }
  }
}

}  // namespace dxbackup::scheduler
