#include "scheduler/policy/retention.h"

#include <algorithm>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "scheduler/policy/calendar_duration.h"

namespace dxbackup::scheduler {
namespace {

using Bucket = std::function<int64_t(absl::Time, int index)>;

int64_t IsoYearWeek(absl::CivilDay day) {
  // ISO 8601: the week belongs to the year of its Thursday.
  const int weekday =
      (static_cast<int>(absl::GetWeekday(day)) + 7) % 7;  // Mon=0
  const absl::CivilDay thursday = day - weekday + 3;
  const absl::CivilDay jan1(thursday.year(), 1, 1);
  const int week = static_cast<int>((thursday - jan1) / 7) + 1;
  return thursday.year() * 100 + week;
}

struct CountRule {
  int count;
  std::string reason;
  Bucket bucket;
  int64_t last = INT64_MIN;
};

}  // namespace

int64_t EarliestRemovalUnder(const v1::Retention& rules, int64_t started_unix) {
  absl::StatusOr<CalendarDuration> within =
      CalendarDuration::Parse(rules.keep_within());
  if (!within.ok()) return started_unix;
  return started_unix + within->MinimumSeconds();
}

absl::Status ValidateRetention(const v1::Retention& r) {
  for (int count : {r.keep_last(), r.keep_hourly(), r.keep_daily(),
                    r.keep_weekly(), r.keep_monthly(), r.keep_yearly()}) {
    if (count < -1) {
      return absl::InvalidArgumentError(
          "keep counts must be 0 or more, or -1 for unlimited");
    }
  }
  if (r.keep_min_complete() < 0) {
    return absl::InvalidArgumentError("keep_min_complete must be 0 or more");
  }
  absl::StatusOr<CalendarDuration> d = CalendarDuration::Parse(r.keep_within());
  if (!d.ok()) return d.status();
  d = CalendarDuration::Parse(r.failed_max_age());
  if (!d.ok()) return d.status();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RetentionDecision>> ApplyRetention(
    const v1::Retention& r, absl::TimeZone tz, absl::Time now,
    std::vector<RetentionCandidate> sets) {
  absl::Status valid = ValidateRetention(r);
  if (!valid.ok()) return valid;
  const CalendarDuration within = *CalendarDuration::Parse(r.keep_within());
  CalendarDuration failed_age = *CalendarDuration::Parse(r.failed_max_age());
  if (failed_age.zero()) failed_age.days = 7;

  std::stable_sort(
      sets.begin(), sets.end(),
      [](const RetentionCandidate& a, const RetentionCandidate& b) {
        if (a.time != b.time) return a.time > b.time;
        return a.id > b.id;
      });
  std::vector<RetentionDecision> out;
  std::vector<const RetentionCandidate*> complete;
  for (const RetentionCandidate& s : sets) {
    out.push_back({s.id, s.time, false, {}});
    if (s.state == RetentionCandidate::State::kComplete) complete.push_back(&s);
  }
  std::map<std::string, RetentionDecision*> by_id;
  for (RetentionDecision& d : out) by_id[d.id] = &d;
  auto keep = [&](const std::string& id, const std::string& reason) {
    RetentionDecision* d = by_id[id];
    if (!d->keep) d->reasons.clear();
    d->keep = true;
    d->reasons.push_back(reason);
  };

  const bool empty = r.keep_last() == 0 && r.keep_hourly() == 0 &&
                     r.keep_daily() == 0 && r.keep_weekly() == 0 &&
                     r.keep_monthly() == 0 && r.keep_yearly() == 0 &&
                     within.zero();
  // The newest complete set not in the future anchors keep_within.
  absl::Time latest = absl::InfinitePast();
  for (const RetentionCandidate* s : complete) {
    if (s->time <= now) {
      latest = std::max(latest, s->time);
    }
  }
  std::vector<CountRule> rules = {
      {r.keep_last(), "last", [](absl::Time, int i) { return int64_t{i}; }},
      {r.keep_hourly(), "hourly",
       [tz](absl::Time t, int) {
         const absl::CivilHour h = absl::ToCivilHour(t, tz);
         return ((h.year() * 100 + h.month()) * 100 + h.day()) * 100 + h.hour();
       }},
      {r.keep_daily(), "daily",
       [tz](absl::Time t, int) {
         const absl::CivilDay d = absl::ToCivilDay(t, tz);
         return (d.year() * 100 + d.month()) * 100 + d.day();
       }},
      {r.keep_weekly(), "weekly",
       [tz](absl::Time t, int) {
         return IsoYearWeek(absl::ToCivilDay(t, tz));
       }},
      {r.keep_monthly(), "monthly",
       [tz](absl::Time t, int) {
         const absl::CivilMonth m = absl::ToCivilMonth(t, tz);
         return m.year() * 100 + m.month();
       }},
      {r.keep_yearly(), "yearly",
       [tz](absl::Time t, int) {
         return int64_t{absl::ToCivilYear(t, tz).year()};
       }},
  };
  for (size_t i = 0; i < complete.size(); ++i) {
    const RetentionCandidate& s = *complete[i];
    if (empty) {
      keep(s.id, "policy has no keep rule");
      continue;
    }
    if (s.time > now) {
      keep(s.id, "dated in the future");
      continue;
    }
    if (!within.zero() && s.time > Before(latest, within, tz)) {
      keep(s.id, absl::StrCat("within ", within.ToString(), " of the newest"));
    }
    for (CountRule& rule : rules) {
      if (rule.count == 0) continue;
      const int64_t value = rule.bucket(s.time, static_cast<int>(i));
      const bool oldest = i + 1 == complete.size();
      if (value != rule.last || oldest) {
        const bool new_bucket = value != rule.last;
        rule.last = value;
        if (rule.count > 0) --rule.count;
        keep(s.id, new_bucket ? absl::StrCat(rule.reason)
                              : absl::StrCat("oldest, ", rule.reason, " left"));
      }
    }
  }
  int kept_complete = 0;
  for (const RetentionCandidate* s : complete)
    kept_complete += by_id[s->id]->keep;
  for (const RetentionCandidate* s : complete) {
    if (kept_complete >= r.keep_min_complete()) break;
    if (!by_id[s->id]->keep) {
      keep(s->id, absl::StrCat("keep_min_complete ", r.keep_min_complete()));
      ++kept_complete;
    }
  }
  for (const RetentionCandidate& s : sets) {
    RetentionDecision* d = by_id[s.id];
    if (s.state == RetentionCandidate::State::kRunning) {
      keep(s.id, "running");
    } else if (s.state == RetentionCandidate::State::kFailed) {
      if (s.time > Before(now, failed_age, tz)) {
        keep(s.id,
             absl::StrCat("failed, younger than ", failed_age.ToString()));
      } else {
        d->reasons = {
            absl::StrCat("failed, older than ", failed_age.ToString())};
      }
    } else if (!d->keep) {
      d->reasons = {"no rule keeps it"};
    }
  }
  for (const RetentionCandidate& s : sets) {
    if (!s.pinned.empty()) keep(s.id, s.pinned);
  }
  // A kept set's base is kept, and its base in turn.
  for (bool changed = true; changed;) {
    changed = false;
    for (const RetentionCandidate& s : sets) {
      if (!by_id[s.id]->keep || s.base_id.empty()) continue;
      auto base = by_id.find(s.base_id);
      if (base != by_id.end() && !base->second->keep) {
        keep(s.base_id, absl::StrCat("base of ", s.id));
        changed = true;
      }
    }
  }
  return out;
}

}  // namespace dxbackup::scheduler
