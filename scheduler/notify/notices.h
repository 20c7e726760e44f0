// The notifications' events, and the Notice each situation earns: what
// happened, to which deployment and set, and one line saying what to do.
#ifndef DXBACKUP_SCHEDULER_NOTIFY_NOTICES_H_
#define DXBACKUP_SCHEDULER_NOTIFY_NOTICES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

inline constexpr char kSetFailed[] = "set_failed";
inline constexpr char kSetRecovered[] = "set_recovered";
inline constexpr char kDeploymentStale[] = "deployment_stale";
inline constexpr char kVerificationFailed[] = "verification_failed";
inline constexpr char kDrillFailed[] = "drill_failed";

// True for one of the five event names above.
bool IsNoticeEvent(const std::string& event);
// "set_failed, set_recovered, ...": for config errors.
std::string NoticeEvents();

// What the end of `set` earns: set_failed when it failed; set_recovered
// when it is complete and `previous` (the deployment's set before it, of
// any policy; null: none) failed; nothing otherwise.
std::optional<v1::Notice> SetEndNotice(const v1::BackupSet& set,
                                       const v1::BackupSet* previous);

// deployment_stale: `ns`/`release`'s newest complete set (null: none) is
// older than policy `policy`'s RPO, `rpo_seconds`, at `now_unix`.
v1::Notice StaleNotice(const std::string& ns, const std::string& release,
                       const std::string& policy, int64_t rpo_seconds,
                       const v1::BackupSet* newest_complete, int64_t now_unix);

// verification_failed: `set` was found corrupt (its verification's
// detail says where).
v1::Notice CorruptionNotice(const v1::BackupSet& set);

// drill_failed: `set`'s restore drill failed (its drill's detail says
// what).
v1::Notice DrillFailedNotice(const v1::BackupSet& set);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_NOTIFY_NOTICES_H_
