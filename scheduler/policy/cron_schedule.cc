#include "scheduler/policy/cron_schedule.h"

#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dxbackup::scheduler {
namespace {

constexpr int kSearchDays = 8 * 366;

const char* const kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char* const kDayNames[] = {"SUN", "MON", "TUE", "WED",
                                 "THU", "FRI", "SAT"};

// FNV-1a: stable across builds and platforms, unlike std::hash.
uint64_t StableHash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

absl::Status FieldError(const std::string& spec, const std::string& field,
                        const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("schedule \"", spec, "\": field \"", field, "\": ", what));
}

// A number of plain digits only: SimpleAtoi would take "-0", "+5" and
// blanks around it, which cron does not ("0--0" was read as 0-0).
bool ParseDigits(const std::string& text, int* out) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(text, out);
}

// Parses one value: a number or, where `names` is given, a name.
bool ParseValue(const std::string& text, const char* const* names,
                int name_count, int name_base, int* out) {
  if (ParseDigits(text, out)) return true;
  const std::string upper = absl::AsciiStrToUpper(text);
  for (int i = 0; names != nullptr && i < name_count; ++i) {
    if (upper == names[i]) {
      *out = i + name_base;
      return true;
    }
  }
  return false;
}

// Parses a cron field into bits [lo, hi]; sets *any when it is "*".
template <size_t N>
absl::Status ParseField(const std::string& spec, const std::string& field,
                        int lo, int hi, const char* const* names,
                        int name_count, int name_base, std::bitset<N>* bits,
                        bool* any) {
  *any = field == "*";
  for (const std::string& part :
       std::vector<std::string>(absl::StrSplit(field, ','))) {
    std::string range = part;
    int step = 1;
    const size_t slash = part.find('/');
    if (slash != std::string::npos) {
      range = part.substr(0, slash);
      if (!ParseDigits(part.substr(slash + 1), &step) || step <= 0) {
        return FieldError(spec, field, "bad step");
      }
    }
    int first = lo, last = hi;
    if (range != "*") {
      const size_t dash = range.find('-');
      if (dash == std::string::npos) {
        if (!ParseValue(range, names, name_count, name_base, &first)) {
          return FieldError(spec, field,
                            absl::StrCat("bad value \"", range, "\""));
        }
        last = slash == std::string::npos ? first : hi;
      } else if (!ParseValue(range.substr(0, dash), names, name_count,
                             name_base, &first) ||
                 !ParseValue(range.substr(dash + 1), names, name_count,
                             name_base, &last)) {
        return FieldError(spec, field,
                          absl::StrCat("bad range \"", range, "\""));
      }
    }
    if (first < lo || last > hi || first > last) {
      return FieldError(spec, field,
                        absl::StrCat("values must lie in ", lo, "-", hi));
    }
    for (int64_t v = first; v <= last; v += step) bits->set(v);
  }
  return absl::OkStatus();
}

// The 5-field form of a macro, with spread values where asked.
absl::StatusOr<std::string> ExpandMacro(const std::string& macro,
                                        const std::string& spread_key) {
  const uint64_t h = StableHash(spread_key);
  const std::string minute = std::to_string(h % 60);
  const std::string hour = std::to_string((h / 60) % 24);
  const std::string weekday = std::to_string((h / 1440) % 7);
  const std::string monthday = std::to_string(1 + (h / 10080) % 28);
  if (macro == "@hourly") return std::string("0 * * * *");
  if (macro == "@daily" || macro == "@midnight")
    return std::string("0 0 * * *");
  if (macro == "@weekly") return std::string("0 0 * * 0");
  if (macro == "@monthly") return std::string("0 0 1 * *");
  if (macro == "@yearly" || macro == "@annually")
    return std::string("0 0 1 1 *");
  if (macro == "@hourly-spread") return absl::StrCat(minute, " * * * *");
  if (macro == "@daily-spread")
    return absl::StrCat(minute, " ", hour, " * * *");
  if (macro == "@weekly-spread") {
    return absl::StrCat(minute, " ", hour, " * * ", weekday);
  }
  if (macro == "@monthly-spread") {
    return absl::StrCat(minute, " ", hour, " ", monthday, " * *");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown schedule \"", macro,
      "\"; use 5-field cron, @hourly, @daily, @weekly, @monthly, @yearly or "
      "their -spread forms"));
}

}  // namespace

absl::StatusOr<absl::TimeZone> LoadZone(const std::string& name) {
  absl::TimeZone tz = absl::UTCTimeZone();
  if (name.empty() || name == "UTC") return tz;
  if (!absl::LoadTimeZone(name, &tz)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown time zone \"", name,
        "\"; use an IANA name like Europe/Berlin (package tzdata)"));
  }
  return tz;
}

absl::StatusOr<CronSchedule> CronSchedule::Parse(const std::string& spec,
                                                 const std::string& spread_key,
                                                 absl::TimeZone tz) {
  CronSchedule s;
  s.spec_ = spec;
  s.tz_ = tz;
  std::string rest(absl::StripAsciiWhitespace(spec));
  if (absl::StartsWith(rest, "CRON_TZ=") || absl::StartsWith(rest, "TZ=")) {
    const size_t space = rest.find(' ');
    if (space == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("schedule \"", spec, "\" has a time zone but no times"));
    }
    const std::string zone =
        rest.substr(rest.find('=') + 1, space - rest.find('=') - 1);
    absl::StatusOr<absl::TimeZone> loaded = LoadZone(zone);
    if (!loaded.ok()) return loaded.status();
    s.tz_ = *loaded;
    rest = std::string(absl::StripAsciiWhitespace(rest.substr(space)));
  }
  if (absl::StartsWith(rest, "@")) {
    absl::StatusOr<std::string> expanded = ExpandMacro(rest, spread_key);
    if (!expanded.ok()) return expanded.status();
    rest = *expanded;
  }
  std::vector<std::string> fields =
      absl::StrSplit(rest, ' ', absl::SkipEmpty());
  if (fields.size() != 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("schedule \"", spec,
                     "\" needs 5 fields (minute hour day-of-month "
                     "month day-of-week), got ",
                     fields.size()));
  }
  bool any;
  absl::Status st =
      ParseField(spec, fields[0], 0, 59, nullptr, 0, 0, &s.minutes_, &any);
  if (st.ok())
    st = ParseField(spec, fields[1], 0, 23, nullptr, 0, 0, &s.hours_, &any);
  if (st.ok())
    st = ParseField(spec, fields[2], 1, 31, nullptr, 0, 0, &s.days_,
                    &s.any_day_);
  if (st.ok())
    st = ParseField(spec, fields[3], 1, 12, kMonthNames, 12, 1, &s.months_,
                    &any);
  std::bitset<8> weekdays;
  if (st.ok())
    st = ParseField(spec, fields[4], 0, 7, kDayNames, 7, 0, &weekdays,
                    &s.any_weekday_);
  if (!st.ok()) return st;
  for (int d = 0; d < 7; ++d) s.weekdays_[d] = weekdays[d];
  if (weekdays[7]) s.weekdays_[0] = true;  // 7 is Sunday too
  return s;
}

bool CronSchedule::DayMatches(const absl::CivilDay& day) const {
  if (!months_[day.month()]) return false;
  const int weekday =
      (static_cast<int>(absl::GetWeekday(day)) + 1) % 7;  // Sun=0
  const bool dom = days_[day.day()];
  const bool dow = weekdays_[weekday];
  if (any_day_ && any_weekday_) return true;
  if (any_day_) return dow;
  if (any_weekday_) return dom;
  return dom || dow;
}

absl::Time CronSchedule::At(const absl::CivilMinute& m) const {
  const absl::TimeZone::TimeInfo info = tz_.At(m);
  switch (info.kind) {
    case absl::TimeZone::TimeInfo::SKIPPED:
      return info.trans;  // when the clock jumps past the missing time
    case absl::TimeZone::TimeInfo::REPEATED:
    case absl::TimeZone::TimeInfo::UNIQUE:
      break;
  }
  return info.pre;  // the first of a repeated time
}

absl::Time CronSchedule::Next(absl::Time t) const {
  const absl::CivilDay first = absl::ToCivilDay(t, tz_);
  for (int i = 0; i < kSearchDays; ++i) {
    const absl::CivilDay day = first + i;
    if (!DayMatches(day)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_[h]) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_[m]) continue;
        const absl::Time when =
            At(absl::CivilMinute(day.year(), day.month(), day.day(), h, m));
        if (when > t) return when;
      }
    }
  }
  return absl::InfiniteFuture();
}

absl::Time CronSchedule::Previous(absl::Time t) const {
  const absl::CivilDay first = absl::ToCivilDay(t, tz_);
  for (int i = 0; i < kSearchDays; ++i) {
    const absl::CivilDay day = first - i;
    if (!DayMatches(day)) continue;
    for (int h = 23; h >= 0; --h) {
      if (!hours_[h]) continue;
      for (int m = 59; m >= 0; --m) {
        if (!minutes_[m]) continue;
        const absl::Time when =
            At(absl::CivilMinute(day.year(), day.month(), day.day(), h, m));
        if (when <= t) return when;
      }
    }
  }
  return absl::InfinitePast();
}

}  // namespace dxbackup::scheduler
