// ApplyRetention decides which backup sets of one group (one namespace,
// release and policy) to keep, and says why for each.
//
// Complete sets are judged by restic's rules (its `forget` semantics): sets
// newest first; keep_last keeps the newest n; keep_hourly/daily/weekly/
// monthly/yearly keep the newest set of each of the last n calendar buckets
// (hour, day, ISO week, month, year in the policy's time zone), and, while a
// rule still has count left, the oldest set too; keep_within keeps every set
// within that calendar duration of the newest; the rules are OR-ed and a set
// may satisfy several. -1 means unlimited. A policy with no rule keeps
// everything. Sets dated in the future are kept.
//
// Then dxbackup's own floors: keep_min_complete keeps the newest complete
// sets until that many are kept whatever the rules said; running sets are
// kept; failed sets (not complete, for any reason) are kept until
// failed_max_age (default 7d) and count toward no rule; a kept set's base
// (for incrementals) is kept, transitively.
#ifndef DXBACKUP_SCHEDULER_POLICY_RETENTION_H_
#define DXBACKUP_SCHEDULER_POLICY_RETENTION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

struct RetentionCandidate {
  std::string id;
  absl::Time time;
  enum class State { kComplete, kFailed, kRunning } state = State::kComplete;
  std::string base_id;  // the set this one needs to restore, if any
  // Set: kept whatever the rules say, for this reason (a restore that
  // waits on it holds it), and so is its chain.
  std::string pinned;
};

struct RetentionDecision {
  std::string id;
  absl::Time time;
  bool keep = false;
  std::vector<std::string> reasons;  // why kept, or why removed
};

// Checks the rules (durations parse, counts >= -1).
absl::Status ValidateRetention(const v1::Retention& rules);

// The earliest a set started at `started_unix` may be removed under
// `rules`: the start plus keep_within (its shortest length), or the start
// itself when only counts keep sets. A store that locks what it writes
// locks a set's objects at least until then.
int64_t EarliestRemovalUnder(const v1::Retention& rules, int64_t started_unix);

// Returns one decision per candidate, newest first.
absl::StatusOr<std::vector<RetentionDecision>> ApplyRetention(
    const v1::Retention& rules, absl::TimeZone tz, absl::Time now,
    std::vector<RetentionCandidate> sets);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POLICY_RETENTION_H_
