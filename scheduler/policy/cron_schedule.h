// CronSchedule says when a policy runs. It accepts
//
//   "30 2 * * 1-5"              5-field cron: minute hour day-of-month month
//                               day-of-week, with lists, ranges, steps and
//                               names (JAN-DEC, SUN-SAT; 7 is Sunday too);
//                               when both day fields are restricted, a day
//                               matching either runs (classic cron)
//   "@hourly" "@daily" "@midnight" "@weekly" "@monthly" "@yearly"
//   "@hourly-spread" "@daily-spread" "@weekly-spread" "@monthly-spread"
//                               like the plain forms, at a minute (and hour,
//                               and weekday) derived from `spread_key`
//                               (namespace/release), stable across restarts,
//                               so that a fleet does not start at once
//   "CRON_TZ=Europe/Berlin 0 3 * * *"   in that time zone (else `tz`)
//
// Next() steps over DST: a local time that does not exist runs when the
// clock jumps past it; a local time that happens twice runs once, the first
// time. Immutable and thread-safe.
#ifndef DXBACKUP_SCHEDULER_POLICY_CRON_SCHEDULE_H_
#define DXBACKUP_SCHEDULER_POLICY_CRON_SCHEDULE_H_

#include <bitset>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace dxbackup::scheduler {

class CronSchedule {
 public:
  static absl::StatusOr<CronSchedule> Parse(
      const std::string& spec, const std::string& spread_key,
      absl::TimeZone tz = absl::UTCTimeZone());

  // The first run strictly after `t`; InfiniteFuture() if none within
  // eight years (a schedule like "0 0 30 2 *").
  absl::Time Next(absl::Time t) const;
  // The last run at or before `t`; InfinitePast() if none within eight
  // years.
  absl::Time Previous(absl::Time t) const;

  const std::string& spec() const { return spec_; }
  absl::TimeZone time_zone() const { return tz_; }

 private:
  bool DayMatches(const absl::CivilDay& day) const;
  // The instant of a local time, per the DST rules above.
  absl::Time At(const absl::CivilMinute& m) const;

  std::string spec_;
  absl::TimeZone tz_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1-31
  std::bitset<13> months_;   // 1-12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = true;      // day-of-month field was "*"
  bool any_weekday_ = true;  // day-of-week field was "*"
};

// Loads an IANA zone ("Europe/Berlin"; "" and "UTC" are UTC).
absl::StatusOr<absl::TimeZone> LoadZone(const std::string& name);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POLICY_CRON_SCHEDULE_H_
