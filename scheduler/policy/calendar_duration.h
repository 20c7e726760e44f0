// CalendarDuration is restic's duration form, "1y5m7d2h": years, months,
// days and hours, subtracted on the calendar of a time zone. As in restic
// (Go's AddDate), a day across a DST change is 23 or 25 hours and an
// impossible date rolls over: March 31 less 1m is March 3 (or 2).
#ifndef DXBACKUP_SCHEDULER_POLICY_CALENDAR_DURATION_H_
#define DXBACKUP_SCHEDULER_POLICY_CALENDAR_DURATION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace dxbackup::scheduler {

struct CalendarDuration {
  int years = 0;
  int months = 0;
  int days = 0;
  int hours = 0;

  bool zero() const {
    return years == 0 && months == 0 && days == 0 && hours == 0;
  }
  std::string ToString() const;
  // The shortest this can last, in seconds: a month counts 28 days, a year
  // 365 (a lower bound, for what must be kept at least this long).
  int64_t MinimumSeconds() const {
    constexpr int64_t kDay = 24 * 3600;
    return int64_t{years} * 365 * kDay + int64_t{months} * 28 * kDay +
           int64_t{days} * kDay + int64_t{hours} * 3600;
  }

  // Parses "1y5m7d2h" (any subset, in any order, each at most once); ""
  // is zero.
  static absl::StatusOr<CalendarDuration> Parse(const std::string& text);
};

// `t` moved back by `d` on the calendar of `tz`.
absl::Time Before(absl::Time t, const CalendarDuration& d, absl::TimeZone tz);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POLICY_CALENDAR_DURATION_H_
