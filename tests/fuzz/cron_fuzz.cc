// libFuzzer: CronSchedule over any schedule string, time zone and start
// time never crashes and runs when scheduler/policy/cron_schedule.h says:
//
//  - a spec in the documented grammar (5 fields: lists, ranges, steps,
//    names, 7 for Sunday; the macros; a CRON_TZ= prefix) is accepted, and
//    one out of range or malformed is refused, as judged by a parser
//    written here (inputs outside what it knows, like "+5", are left to
//    the library);
//  - Next(t) is the first run after t: each slot Next() returns, from start
//    times around the DST changes of the schedule's zone, is the one a
//    brute-force walk finds, minute by minute (skipping only hours and days
//    the spec cannot match), with a matcher of the spec written here: a
//    local time runs once, when it first happens, and a local time skipped
//    by DST runs at the jump; none within eight years is InfiniteFuture();
//  - the -spread macros run at one minute (hour, weekday, day) for a key,
//    checked the same way once that minute is read off a run;
//  - for every accepted spec, Next() moves forward and agrees with
//    Previous(): Previous(Next(t)) == Next(t), Previous(Next(t) - 1s) <= t.
//
// Input: the schedule string, then (taken from the end) the zone of the
// policy, the spread key, the start time's anchor and offset. A failed
// check prints the case and aborts; CRON_FUZZ_PRINT=1 prints every accepted
// case and its first slot.
#include <fuzzer/FuzzedDataProvider.h>

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "scheduler/policy/cron_schedule.h"

namespace {

using dxbackup::scheduler::CronSchedule;

const char* const kZones[] = {
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Havana",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Africa/Casablanca",
};
const char* const kSpreadKeys[] = {"dx-prod/dx", "check", "prune", "a/b", ""};

constexpr absl::Duration kEightYears = absl::Hours(24 * 365 * 8);

// What the grammar here makes of a spec.
enum class Verdict { kValid, kInvalid, kUnknown };

// A parsed spec: the times it names, in its zone.
struct Spec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;
  std::bitset<13> months;
  std::bitset<7> weekdays;  // 0 = Sunday
  bool any_day = false;
  bool any_weekday = false;
  absl::TimeZone tz;
};

struct Case {
  std::string spec;
  std::string zone_name;
  absl::TimeZone zone;  // the policy's
  std::string key;
  absl::Time start = absl::InfinitePast();  // chosen once parsed
};

std::string Show(absl::Time t, absl::TimeZone tz) {
  if (t == absl::InfiniteFuture()) return "never";
  if (t == absl::InfinitePast()) return "-";
  return absl::StrCat(
      absl::FormatTime("%Y-%m-%d %H:%M:%S %z", t, tz), " (",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()), ")");
}

[[noreturn]] void Fail(const Case& c, const std::string& what) {
  std::fprintf(stderr,
               "cron_fuzz: %s\n  spec \"%s\" zone %s key \"%s\" start %s\n",
               what.c_str(), absl::CEscape(c.spec).c_str(), c.zone_name.c_str(),
               c.key.c_str(), Show(c.start, absl::UTCTimeZone()).c_str());
  std::abort();
}

absl::TimeZone Zone(const char* name) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(name, &tz)) {
    std::fprintf(stderr, "cron_fuzz: cannot load zone %s (install tzdata)\n",
                 name);
    std::abort();
  }
  return tz;
}

// Digits only, leading zeros allowed; a value past int32 is no number.
bool Number(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  *out = 0;
  for (char ch : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(ch))) return false;
    *out = *out * 10 + (ch - '0');
    if (*out > INT32_MAX) return false;
  }
  return true;
}

// One field into `bits` [lo, hi]. Names (3 letters, any case) stand for
// lo_name + their index.
template <size_t N>
Verdict Field(const std::string& text, int lo, int hi,
              const std::vector<std::string>& names, int lo_name,
              std::bitset<N>* bits) {
  for (char ch : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) &&
        std::string("*,-/").find(ch) == std::string::npos) {
      return Verdict::kUnknown;
    }
  }
  auto value = [&](const std::string& s, int64_t* v) {
    if (Number(s, v)) return true;
    for (size_t i = 0; i < names.size(); ++i) {
      if (absl::EqualsIgnoreCase(s, names[i])) {
        *v = lo_name + static_cast<int>(i);
        return true;
      }
    }
    return false;
  };
  for (const std::string& item :
       std::vector<std::string>(absl::StrSplit(text, ','))) {
    std::vector<std::string> step_parts = absl::StrSplit(item, '/');
    if (step_parts.size() > 2) return Verdict::kInvalid;
    int64_t step = 1;
    if (step_parts.size() == 2 &&
        (!Number(step_parts[1], &step) || step == 0)) {
      return Verdict::kInvalid;
    }
    int64_t first, last;
    if (step_parts[0] == "*") {
      first = lo, last = hi;
    } else {
      std::vector<std::string> range = absl::StrSplit(step_parts[0], '-');
      if (range.size() > 2 || !value(range[0], &first)) {
        return Verdict::kInvalid;
      }
      if (range.size() == 2) {
        if (!value(range[1], &last)) return Verdict::kInvalid;
      } else {
        last = step_parts.size() == 2 ? hi : first;  // "5/15" is 5-hi/15
      }
    }
    if (first < lo || last > hi || first > last) return Verdict::kInvalid;
    for (int64_t v = first; v <= last; v += step) bits->set(v);
  }
  return Verdict::kValid;
}

// The documented grammar. Macros other than the -spread ones become their
// fields; *spread names a -spread macro, whose fields stay unknown.
Verdict ParseSpec(const std::string& spec, absl::TimeZone tz, Spec* out,
                  std::string* spread) {
  std::string rest(absl::StripAsciiWhitespace(spec));
  out->tz = tz;
  if (absl::StartsWith(rest, "CRON_TZ=")) {
    const size_t space = rest.find(' ');
    if (space == std::string::npos) return Verdict::kInvalid;
    const std::string zone = rest.substr(8, space - 8);
    if (!zone.empty() && zone != "UTC" && !absl::LoadTimeZone(zone, &out->tz)) {
      return Verdict::kInvalid;
    }
    if (zone.empty() || zone == "UTC") out->tz = absl::UTCTimeZone();
    rest = std::string(absl::StripAsciiWhitespace(rest.substr(space)));
  } else if (absl::StartsWith(rest, "TZ=")) {
    return Verdict::kUnknown;  // not documented
  }
  if (absl::StartsWith(rest, "@")) {
    const std::pair<const char*, const char*> kMacros[] = {
        {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},
        {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
        {"@monthly", "0 0 1 * *"},  {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"},
    };
    for (const auto& [name, fields] : kMacros) {
      if (rest == name) rest = fields;
    }
    for (const char* name : {"@hourly-spread", "@daily-spread",
                             "@weekly-spread", "@monthly-spread"}) {
      if (rest == name) {
        *spread = name;
        return Verdict::kValid;
      }
    }
    if (absl::StartsWith(rest, "@")) return Verdict::kInvalid;
  }
  std::vector<std::string> fields =
      absl::StrSplit(rest, ' ', absl::SkipEmpty());
  if (fields.size() != 5) {
    for (char ch : rest) {
      if (absl::ascii_isspace(static_cast<unsigned char>(ch)) && ch != ' ') {
        return Verdict::kUnknown;  // a tab may split fields elsewhere
      }
    }
    return Verdict::kInvalid;
  }
  const std::vector<std::string> months = {"JAN", "FEB", "MAR", "APR",
                                           "MAY", "JUN", "JUL", "AUG",
                                           "SEP", "OCT", "NOV", "DEC"};
  const std::vector<std::string> weekdays = {"SUN", "MON", "TUE", "WED",
                                             "THU", "FRI", "SAT"};
  std::bitset<8> weekday_bits;
  const Verdict verdicts[] = {
      Field(fields[0], 0, 59, {}, 0, &out->minutes),
      Field(fields[1], 0, 23, {}, 0, &out->hours),
      Field(fields[2], 1, 31, {}, 0, &out->days),
      Field(fields[3], 1, 12, months, 1, &out->months),
      Field(fields[4], 0, 7, weekdays, 0, &weekday_bits),
  };
  Verdict verdict = Verdict::kValid;
  for (Verdict v : verdicts) {
    if (v == Verdict::kUnknown) return Verdict::kUnknown;
    if (v == Verdict::kInvalid) verdict = Verdict::kInvalid;
  }
  for (int d = 0; d < 7; ++d) out->weekdays[d] = weekday_bits[d];
  if (weekday_bits[7]) out->weekdays[0] = true;
  out->any_day = fields[2] == "*";
  out->any_weekday = fields[4] == "*";
  return verdict;
}

// Counted from a known Sunday, not read off absl::Weekday's numbering.
int SundayZeroWeekday(absl::CivilDay day) {
  const absl::CivilDay kSunday(2023, 1, 1);
  return static_cast<int>(((day - kSunday) % 7 + 7) % 7);
}

// Classic cron: with both day fields restricted, either matches; with one
// "*", the other decides.
bool DayMatches(const Spec& s, absl::CivilDay day) {
  if (!s.months[day.month()]) return false;
  const bool dom = s.days[day.day()];
  const bool dow = s.weekdays[SundayZeroWeekday(day)];
  if (!s.any_day && !s.any_weekday) return dom || dow;
  return (s.any_day || dom) && (s.any_weekday || dow);
}

bool Matches(const Spec& s, absl::CivilMinute m) {
  return s.minutes[m.minute()] && s.hours[m.hour()] &&
         DayMatches(s, absl::CivilDay(m));
}

// Whether the schedule runs at `u`, a local minute boundary: its local time
// matches and happens for the first time, or DST skipped local times up to
// `u` and one of them matches.
bool IsRun(const Spec& s, absl::Time u) {
  const absl::CivilMinute local = absl::ToCivilMinute(u, s.tz);
  if (Matches(s, local)) {
    const absl::TimeZone::TimeInfo info = s.tz.At(local);
    if (info.kind == absl::TimeZone::TimeInfo::UNIQUE || info.pre == u) {
      return true;
    }
  }
  const absl::CivilMinute before =
      absl::ToCivilMinute(u - absl::Minutes(1), s.tz);
  for (absl::CivilMinute skipped = before + 1; skipped < local; ++skipped) {
    if (Matches(s, skipped)) return true;
  }
  return false;
}

int OffsetAt(const Spec& s, absl::Time t) { return s.tz.At(t).offset; }

// The first run after `t` and at or before `limit`, or InfiniteFuture().
absl::Time WalkNext(const Spec& s, absl::Time t, absl::Time limit) {
  absl::Time u = t + absl::Seconds(60 - absl::ToCivilSecond(t, s.tz).second());
  u = absl::FromUnixSeconds(absl::ToUnixSeconds(u));  // whole seconds
  while (u <= limit) {
    if (IsRun(s, u)) return u;
    // Skip the rest of a day or an hour the spec cannot match, as long as
    // the offset holds (no DST change, so no skipped time, in between).
    const absl::CivilMinute local = absl::ToCivilMinute(u, s.tz);
    int64_t skip = 1;
    if (!DayMatches(s, absl::CivilDay(local))) {
      skip = absl::CivilMinute(absl::CivilDay(local) + 1) - local;
    } else if (!s.hours[local.hour()]) {
      skip = absl::CivilMinute(absl::CivilHour(local) + 1) - local;
    }
    if (skip > 1 && OffsetAt(s, u) != OffsetAt(s, u + absl::Minutes(skip))) {
      skip = 1;
    }
    u += absl::Minutes(skip);
  }
  return absl::InfiniteFuture();
}

// Checks `runs` Next() slots from c.start against the walk over `spec`.
void CheckAgainstWalk(const Case& c, const CronSchedule& schedule,
                      const Spec& spec, int runs) {
  absl::Time t = c.start;
  for (int i = 0; i < runs; ++i) {
    const absl::Time next = schedule.Next(t);
    const absl::Time limit =
        next == absl::InfiniteFuture() ? t + kEightYears : next;
    const absl::Time walked = WalkNext(spec, t, limit);
    if (walked != next) {
      Fail(c, absl::StrCat("after ", Show(t, spec.tz), " Next() is ",
                           Show(next, spec.tz), ", the walk finds ",
                           Show(walked, spec.tz)));
    }
    if (next == absl::InfiniteFuture()) return;
    t = next;
  }
}

// For a -spread macro: the fields, read off a run whose local time is
// unambiguous.
std::optional<Spec> SpreadSpec(const std::string& macro,
                               const CronSchedule& schedule) {
  Spec s;
  s.tz = schedule.time_zone();
  absl::Time t = absl::FromUnixSeconds(1799971200);  // 2027-01-15
  for (int tries = 0; tries < 4; ++tries) {
    const absl::Time run = schedule.Next(t);
    if (run == absl::InfiniteFuture()) return std::nullopt;
    const absl::CivilMinute local = absl::ToCivilMinute(run, s.tz);
    t = run;
    if (s.tz.At(local).kind != absl::TimeZone::TimeInfo::UNIQUE ||
        absl::FromCivil(local, s.tz) != run) {
      continue;
    }
    s.minutes.set(local.minute());
    s.hours.set();
    s.days.set();
    s.months.set();
    s.weekdays.set();
    s.any_day = s.any_weekday = true;
    if (macro != "@hourly-spread") {
      s.hours.reset();
      s.hours.set(local.hour());
    }
    if (macro == "@weekly-spread") {
      s.weekdays.reset();
      s.weekdays.set(SundayZeroWeekday(absl::CivilDay(local)));
      s.any_weekday = false;
    }
    if (macro == "@monthly-spread") {
      s.days.reset();
      s.days.set(local.day());
      s.any_day = false;
    }
    return s;
  }
  return std::nullopt;
}

// What holds for any accepted spec: Next() moves forward and Previous()
// agrees with it.
void CheckNextAndPrevious(const Case& c, const CronSchedule& schedule) {
  absl::Time t = c.start;
  const absl::TimeZone tz = schedule.time_zone();
  for (int i = 0; i < 4; ++i) {
    const absl::Time next = schedule.Next(t);
    if (next <= t) {
      Fail(c, absl::StrCat("Next(", Show(t, tz),
                           ") is not later: ", Show(next, tz)));
    }
    if (next == absl::InfiniteFuture()) return;
    if (schedule.Previous(next) != next) {
      Fail(c, absl::StrCat("Previous(", Show(next, tz), "), a slot, is ",
                           Show(schedule.Previous(next), tz)));
    }
    const absl::Time before = schedule.Previous(next - absl::Seconds(1));
    if (before > t) {
      Fail(c, absl::StrCat("Previous finds ", Show(before, tz), " between ",
                           Show(t, tz), " and Next() ", Show(next, tz)));
    }
    t = next;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<absl::TimeZone>* zones = [] {
    auto* z = new std::vector<absl::TimeZone>;
    for (const char* name : kZones) z->push_back(Zone(name));
    return z;
  }();
  FuzzedDataProvider in(data, size);
  Case c;
  const size_t zone =
      in.ConsumeIntegralInRange<size_t>(0, std::size(kZones) - 1);
  c.zone_name = kZones[zone];
  c.zone = (*zones)[zone];
  c.key = kSpreadKeys[in.ConsumeIntegralInRange<size_t>(
      0, std::size(kSpreadKeys) - 1)];
  const int anchor = in.ConsumeIntegralInRange<int>(0, 5);
  const int offset = in.ConsumeIntegralInRange<int>(-2 * 86400, 2 * 86400);
  c.spec = in.ConsumeRemainingBytesAsString();

  auto schedule = CronSchedule::Parse(c.spec, c.key, c.zone);
  Spec spec;
  std::string spread;
  const Verdict verdict = ParseSpec(c.spec, c.zone, &spec, &spread);
  if (verdict == Verdict::kValid && !schedule.ok()) {
    Fail(c, "a valid spec is refused: " + schedule.status().ToString());
  }
  if (verdict == Verdict::kInvalid && schedule.ok()) {
    Fail(c, "an invalid spec is accepted");
  }
  if (!schedule.ok()) return 0;

  // The start: 2027-01-01, 2028-02-28 12:00 UTC, or around one of the
  // first DST changes of the schedule's zone in 2027.
  const absl::TimeZone tz = schedule->time_zone();
  absl::Time base = absl::FromUnixSeconds(1798761600);
  if (anchor == 1) base = absl::FromUnixSeconds(1835352000);
  for (int i = 2; i <= anchor; ++i) {
    absl::TimeZone::CivilTransition next;
    if (!tz.NextTransition(base, &next)) break;
    base = tz.At(next.to).trans;
  }
  c.start = base + absl::Seconds(offset);

  static const bool print = std::getenv("CRON_FUZZ_PRINT") != nullptr;
  if (print) {
    std::fprintf(stderr,
                 "cron_fuzz: \"%s\" zone %s key \"%s\" start %s%s: %s\n",
                 absl::CEscape(c.spec).c_str(), c.zone_name.c_str(),
                 c.key.c_str(), Show(c.start, tz).c_str(),
                 verdict == Verdict::kValid     ? ""
                 : verdict == Verdict::kInvalid ? " (invalid here)"
                                                : " (unknown here)",
                 Show(schedule->Next(c.start), tz).c_str());
  }
  CheckNextAndPrevious(c, *schedule);
  if (verdict != Verdict::kValid) return 0;
  if (tz.At(c.start).offset % 60 != 0) return 0;  // not whole minutes
  if (spread.empty()) {
    CheckAgainstWalk(c, *schedule, spec, 4);
    return 0;
  }
  // The same key gives the same slots.
  auto again = CronSchedule::Parse(c.spec, c.key, c.zone);
  if (again->Next(c.start) != schedule->Next(c.start)) {
    Fail(c, "the same spread key gives another slot");
  }
  const std::optional<Spec> fields = SpreadSpec(spread, *schedule);
  if (!fields.has_value()) Fail(c, "no unambiguous run of " + spread);
  CheckAgainstWalk(c, *schedule, *fields, 4);
  return 0;
}
