#include "scheduler/notify/notices.h"

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler {
namespace {

constexpr const char* kEvents[] = {kSetFailed, kSetRecovered, kDeploymentStale,
                                   kVerificationFailed, kDrillFailed};

v1::Notice About(const char* event, const v1::BackupSet& set) {
  v1::Notice n;
  n.set_event(event);
  n.set_namespace_(set.namespace_());
  n.set_release(set.release());
  n.set_set_id(set.id());
  n.set_policy(set.policy());
  return n;
}

// "2h 5m", "3d 4h": an age for people.
std::string Age(int64_t seconds) {
  if (seconds < 3600) return absl::StrCat(seconds / 60, "m");
  if (seconds < 86400) {
    return absl::StrCat(seconds / 3600, "h ", seconds % 3600 / 60, "m");
  }
  return absl::StrCat(seconds / 86400, "d ", seconds % 86400 / 3600, "h");
}

}  // namespace

bool IsNoticeEvent(const std::string& event) {
  for (const char* e : kEvents) {
    if (event == e) return true;
  }
  return false;
}

std::string NoticeEvents() {
  std::string out;
  for (const char* e : kEvents)
    absl::StrAppend(&out, out.empty() ? "" : ", ", e);
  return out;
}

std::optional<v1::Notice> SetEndNotice(const v1::BackupSet& set,
                                       const v1::BackupSet* previous) {
  const std::string deployment =
      absl::StrCat(set.namespace_(), "/", set.release());
  if (set.status() == v1::SET_FAILED) {
    v1::Notice n = About(kSetFailed, set);
    n.set_summary(absl::StrCat("backup set ", set.id(), " of ", deployment,
                               " failed; `dxbackup show ", set.id(),
                               "` has each member's error"));
    n.set_detail(set.reason());
    n.set_at_unix(set.finished_unix());
    return n;
  }
  if (set.status() == v1::SET_COMPLETE && previous != nullptr &&
      previous->status() == v1::SET_FAILED) {
    v1::Notice n = About(kSetRecovered, set);
    n.set_summary(absl::StrCat("backup set ", set.id(), " of ", deployment,
                               " is complete again, after set ", previous->id(),
                               " failed"));
    n.set_at_unix(set.finished_unix());
    return n;
  }
  return std::nullopt;
}

v1::Notice StaleNotice(const std::string& ns, const std::string& release,
                       const std::string& policy, int64_t rpo_seconds,
                       const v1::BackupSet* newest_complete, int64_t now_unix) {
  v1::Notice n;
  n.set_event(kDeploymentStale);
  n.set_namespace_(ns);
  n.set_release(release);
  n.set_policy(policy);
  n.set_at_unix(now_unix);
  const std::string deployment = absl::StrCat(ns, "/", release);
  if (newest_complete == nullptr) {
    n.set_summary(absl::StrCat(deployment, " has no complete backup set; ",
                               "policy ", policy, " wants one every ",
                               Age(rpo_seconds)));
  } else {
    n.set_set_id(newest_complete->id());
    n.set_summary(absl::StrCat(
        deployment, "'s newest complete backup set, ", newest_complete->id(),
        ", is ", Age(now_unix - newest_complete->finished_unix()),
        " old; policy ", policy, " wants one every ", Age(rpo_seconds)));
  }
  n.set_detail(absl::StrCat("`dxbackup sets --namespace ", ns, " --release ",
                            release, "` shows why recent sets failed"));
  return n;
}

v1::Notice CorruptionNotice(const v1::BackupSet& set) {
  v1::Notice n = About(kVerificationFailed, set);
  n.set_summary(absl::StrCat(
      "backup set ", set.id(), " of ", set.namespace_(), "/", set.release(),
      " failed verification: restore refuses it; take a new set"));
  n.set_detail(set.verification().detail());
  n.set_at_unix(set.verification().verified_unix());
  return n;
}

v1::Notice DrillFailedNotice(const v1::BackupSet& set) {
  v1::Notice n = About(kDrillFailed, set);
  n.set_summary(absl::StrCat(
      "the restore drill of backup set ", set.id(), " of ", set.namespace_(),
      "/", set.release(), " failed: this set may not restore; `dxbackup show ",
      set.id(), "` says why"));
  n.set_detail(set.drill().detail());
  n.set_at_unix(set.drill().drilled_unix());
  return n;
}

}  // namespace dxbackup::scheduler
