// libFuzzer: ApplyRetention over arbitrary rules (every count rule, -1 and
// invalid counts, keep_within, failed_max_age, keep_min_complete), time
// zones with DST and odd offsets, and sets that are complete, failed,
// running, dated in the future, tied in time, or incrementals on a base
// (present, missing, newer than them) never crashes and decides as
// scheduler/policy/retention.h documents:
//
//  - invalid rules are refused, valid ones accepted;
//  - one decision per set, newest first, each with a reason;
//  - running sets, complete sets dated in the future and failed sets younger
//    than failed_max_age (default 7d) are kept;
//  - at least min(keep_min_complete, complete sets) complete sets are kept;
//  - a kept set's base is kept, transitively;
//  - and the whole decision equals an independent re-computation of the
//    documented rules (keep_last, the calendar buckets with their "oldest
//    while count is left", keep_within, the floor, failed, running, bases).
//
// Input: a rule mask and counts, zone, "now", a time unit, then one record
// per set (see DecodeInput). A failed check prints the case and aborts;
// RETENTION_FUZZ_PRINT=1 prints every case decoded.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "scheduler/policy/calendar_duration.h"
#include "scheduler/policy/retention.h"

namespace {

using dxbackup::scheduler::ApplyRetention;
using dxbackup::scheduler::CalendarDuration;
using dxbackup::scheduler::RetentionCandidate;
using dxbackup::scheduler::RetentionDecision;
using State = RetentionCandidate::State;

// A duration the input may pick, with its meaning written out here rather
// than parsed, so that the expectation does not rest on the parser.
struct DurationChoice {
  const char* text;
  bool valid;
  CalendarDuration value;
};

constexpr DurationChoice kDurations[] = {
    {"1h", true, {0, 0, 0, 1}}, {"36h", true, {0, 0, 0, 36}},
    {"2d", true, {0, 0, 2, 0}}, {"7d", true, {0, 0, 7, 0}},
    {"1m", true, {0, 1, 0, 0}}, {"1y5m7d2h", true, {1, 5, 7, 2}},
    {"2y", true, {2, 0, 0, 0}}, {"0h", true, {0, 0, 0, 0}},
    {"3w", false, {}},          {"1d1d", false, {}},
};

// Zones with DST at 02:00, at midnight, by 30 minutes, a 45-minute offset,
// none, and fixed offsets.
const char* const kZones[] = {
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Pacific/Apia",
    "America/St_Johns",
};

struct Case {
  dxbackup::v1::Retention rules;
  bool valid = true;
  CalendarDuration within;
  CalendarDuration failed_age;  // 7d when the rule says 0 or nothing
  std::string zone_name;
  absl::TimeZone tz;
  absl::Time now;
  std::vector<RetentionCandidate> sets;
};

std::string Describe(const Case& c) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  std::string out = absl::StrCat(
      "rules {", c.rules.ShortDebugString(), "} zone ", c.zone_name, " now ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%S", c.now, utc), "Z\n");
  for (const RetentionCandidate& s : c.sets) {
    absl::StrAppend(&out, "  ", s.id, " ",
                    absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", s.time, c.tz), " ",
                    s.state == State::kComplete ? "complete"
                    : s.state == State::kFailed ? "failed"
                                                : "running",
                    s.base_id.empty() ? "" : " base " + s.base_id, "\n");
  }
  return out;
}

[[noreturn]] void Fail(const Case& c, const std::string& what) {
  std::fprintf(stderr, "retention_fuzz: %s\n%s", what.c_str(),
               Describe(c).c_str());
  std::abort();
}

absl::TimeZone Zone(const char* name) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(name, &tz)) {
    std::fprintf(
        stderr, "retention_fuzz: cannot load zone %s (install tzdata)\n", name);
    std::abort();
  }
  return tz;
}

// 0..13, then -1 (unlimited), then -2 (invalid); 0 when the input is spent.
int32_t Count(FuzzedDataProvider& in, bool* valid) {
  const int v = in.ConsumeIntegralInRange<int>(0, 15);
  if (v == 15) *valid = false;
  return v <= 13 ? v : 13 - v;
}

const DurationChoice& PickDuration(FuzzedDataProvider& in) {
  return kDurations[in.ConsumeIntegralInRange<size_t>(
      0, std::size(kDurations) - 1)];
}

Case DecodeInput(FuzzedDataProvider& in) {
  Case c;
  dxbackup::v1::Retention& r = c.rules;
  // Which rules are set: with none, the policy keeps everything.
  const uint8_t mask = in.ConsumeIntegral<uint8_t>();
  if (mask & 0x01) r.set_keep_last(Count(in, &c.valid));
  if (mask & 0x02) r.set_keep_hourly(Count(in, &c.valid));
  if (mask & 0x04) r.set_keep_daily(Count(in, &c.valid));
  if (mask & 0x08) r.set_keep_weekly(Count(in, &c.valid));
  if (mask & 0x10) r.set_keep_monthly(Count(in, &c.valid));
  if (mask & 0x20) r.set_keep_yearly(Count(in, &c.valid));
  if (mask & 0x40) {
    const DurationChoice& d = PickDuration(in);
    r.set_keep_within(d.text);
    c.valid &= d.valid;
    c.within = d.value;
  }
  c.failed_age.days = 7;
  if (mask & 0x80) {
    const DurationChoice& d = PickDuration(in);
    r.set_failed_max_age(d.text);
    c.valid &= d.valid;
    if (!d.value.zero()) c.failed_age = d.value;
  }
  int min_complete = in.ConsumeIntegralInRange<int>(0, 6);
  if (min_complete == 6) min_complete = -1;
  r.set_keep_min_complete(min_complete);
  if (min_complete < 0) c.valid = false;

  const size_t zone =
      in.ConsumeIntegralInRange<size_t>(0, std::size(kZones) + 1);
  if (zone < std::size(kZones)) {
    c.zone_name = kZones[zone];
    c.tz = Zone(kZones[zone]);
  } else {  // a fixed offset, -12h..+14h in quarter hours
    const int quarters = in.ConsumeIntegralInRange<int>(-48, 56);
    c.zone_name = absl::StrCat("fixed ", quarters * 15, "min");
    c.tz = absl::FixedTimeZone(quarters * 15 * 60);
  }
  // Now: somewhere in 2027, so that the sets cross DST changes and years.
  c.now = absl::FromUnixSeconds(1798761600) +
          absl::Minutes(in.ConsumeIntegralInRange<int>(0, 366 * 24 * 60));
  constexpr absl::Duration kUnits[] = {
      absl::Minutes(1), absl::Minutes(13),   absl::Hours(1),
      absl::Hours(24),  absl::Hours(24 * 7), absl::Hours(24 * 31)};
  const absl::Duration unit =
      kUnits[in.ConsumeIntegralInRange<size_t>(0, std::size(kUnits) - 1)];

  // One record per set: age in units (negative: in the future), a few
  // seconds of jitter, state, base.
  std::vector<int> bases;
  while (in.remaining_bytes() > 0 && c.sets.size() < 48) {
    RetentionCandidate s;
    s.id = absl::StrCat("s", c.sets.size());
    int age = in.ConsumeIntegralInRange<int>(0, 1008);
    if (age > 1000) age = 1000 - age;
    s.time = c.now - unit * age -
             absl::Seconds(in.ConsumeIntegralInRange<int>(0, 3) * 20);
    const uint8_t state = in.ConsumeIntegral<uint8_t>();
    s.state = (state & 7) < 5   ? State::kComplete
              : (state & 7) < 7 ? State::kFailed
                                : State::kRunning;
    // Base: none, another set (older or newer, itself included), or a set
    // that is not in the group.
    const uint8_t base = in.ConsumeIntegral<uint8_t>();
    bases.push_back(base < 0x80 ? base : base < 0x90 ? -2 : -1);
    c.sets.push_back(s);
  }
  for (size_t i = 0; i < c.sets.size(); ++i) {
    if (bases[i] >= 0) {
      c.sets[i].base_id = c.sets[bases[i] % c.sets.size()].id;
    } else if (bases[i] == -2) {
      c.sets[i].base_id = "removed-earlier";
    }
  }
  return c;
}

// The calendar bucket of the count rule `rule` (1 hourly .. 5 yearly): the
// civil hour, day, ISO week (named by its Monday), month or year in `tz`.
using Bucket = std::variant<absl::CivilHour, absl::CivilDay, absl::CivilMonth,
                            absl::CivilYear>;
Bucket BucketOf(int rule, absl::Time t, absl::TimeZone tz) {
  switch (rule) {
    case 1:
      return absl::ToCivilHour(t, tz);
    case 2:
      return absl::ToCivilDay(t, tz);
    case 3: {
      absl::CivilDay day = absl::ToCivilDay(t, tz);
      while (absl::GetWeekday(day) != absl::Weekday::monday) --day;
      return day;
    }
    case 4:
      return absl::ToCivilMonth(t, tz);
    default:
      return absl::ToCivilYear(t, tz);
  }
}

// The documented rules, computed afresh over `order` (indices into c.sets,
// newest first). Returns keep per index.
std::vector<bool> Expected(const Case& c, const std::vector<size_t>& order) {
  const dxbackup::v1::Retention& r = c.rules;
  const size_t n = c.sets.size();
  std::vector<bool> keep(n, false);
  std::vector<size_t> complete, past;  // newest first
  for (size_t i : order) {
    if (c.sets[i].state != State::kComplete) continue;
    complete.push_back(i);
    if (c.sets[i].time <= c.now) past.push_back(i);
  }
  const int counts[] = {r.keep_last(),   r.keep_hourly(),  r.keep_daily(),
                        r.keep_weekly(), r.keep_monthly(), r.keep_yearly()};
  bool any_rule = !c.within.zero();
  for (int count : counts) any_rule |= count != 0;

  if (!any_rule) {
    for (size_t i : complete) keep[i] = true;
  } else {
    for (size_t i : complete) {
      if (c.sets[i].time > c.now) keep[i] = true;  // dated in the future
    }
    // keep_last: the newest n.
    for (size_t j = 0; j < past.size(); ++j) {
      if (r.keep_last() == -1 || j < static_cast<size_t>(r.keep_last())) {
        keep[past[j]] = true;
      }
    }
    // The newest set of each of the last n buckets, and the oldest set
    // while the rule has count left.
    for (int rule = 1; rule <= 5; ++rule) {
      int left = counts[rule];
      std::optional<Bucket> last;
      for (size_t j = 0; j < past.size() && left != 0; ++j) {
        const Bucket b = BucketOf(rule, c.sets[past[j]].time, c.tz);
        if (!last.has_value() || *last != b || j + 1 == past.size()) {
          keep[past[j]] = true;
          last = b;
          if (left > 0) --left;
        }
      }
    }
    // keep_within: within the duration of the newest (not future) set.
    if (!c.within.zero() && !past.empty()) {
      const absl::Time from =
          dxbackup::scheduler::Before(c.sets[past[0]].time, c.within, c.tz);
      for (size_t i : past) {
        if (c.sets[i].time > from) keep[i] = true;
      }
    }
  }
  // The floor: the newest complete sets until keep_min_complete are kept.
  size_t kept = 0;
  for (size_t i : complete) kept += keep[i];
  for (size_t i : complete) {
    if (kept >= static_cast<size_t>(r.keep_min_complete())) break;
    if (!keep[i]) {
      keep[i] = true;
      ++kept;
    }
  }
  const absl::Time failed_from =
      dxbackup::scheduler::Before(c.now, c.failed_age, c.tz);
  for (size_t i = 0; i < n; ++i) {
    if (c.sets[i].state == State::kRunning) keep[i] = true;
    if (c.sets[i].state == State::kFailed && c.sets[i].time > failed_from) {
      keep[i] = true;
    }
  }
  // Bases of kept sets, transitively.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[c.sets[i].id] = i;
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < n; ++i) {
      auto base = index.find(c.sets[i].base_id);
      if (keep[i] && base != index.end() && !keep[base->second]) {
        keep[base->second] = true;
        changed = true;
      }
    }
  }
  return keep;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Case c = DecodeInput(in);
  static const bool print = std::getenv("RETENTION_FUZZ_PRINT") != nullptr;
  if (print) std::fprintf(stderr, "%s", Describe(c).c_str());
  auto decisions = ApplyRetention(c.rules, c.tz, c.now, c.sets);
  if (!decisions.ok()) {
    if (c.valid)
      Fail(c, "valid rules refused: " + decisions.status().ToString());
    return 0;
  }
  if (!c.valid) Fail(c, "invalid rules accepted");

  // One decision per set, newest first, each with a reason.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < c.sets.size(); ++i) index[c.sets[i].id] = i;
  if (decisions->size() != c.sets.size()) {
    Fail(c, absl::StrCat(decisions->size(), " decisions for ", c.sets.size(),
                         " sets"));
  }
  std::vector<size_t> order;
  std::set<std::string> decided;
  std::vector<bool> kept(c.sets.size(), false);
  for (size_t k = 0; k < decisions->size(); ++k) {
    const RetentionDecision& d = (*decisions)[k];
    auto it = index.find(d.id);
    if (it == index.end()) Fail(c, "decision for an unknown set " + d.id);
    if (!decided.insert(d.id).second) Fail(c, "two decisions for " + d.id);
    if (d.time != c.sets[it->second].time) Fail(c, "wrong time on " + d.id);
    if (k > 0 && d.time > (*decisions)[k - 1].time) {
      Fail(c, "decisions not newest first at " + d.id);
    }
    if (d.reasons.empty()) Fail(c, "no reason given for " + d.id);
    order.push_back(it->second);
    kept[it->second] = d.keep;
  }

  // The promises one by one, so that a failure says which.
  size_t complete = 0, kept_complete = 0;
  const absl::Time failed_from =
      dxbackup::scheduler::Before(c.now, c.failed_age, c.tz);
  for (size_t i = 0; i < c.sets.size(); ++i) {
    const RetentionCandidate& s = c.sets[i];
    if (s.state == State::kRunning && !kept[i]) {
      Fail(c, "running set removed: " + s.id);
    }
    if (s.state == State::kComplete) {
      ++complete;
      kept_complete += kept[i];
      if (s.time > c.now && !kept[i]) {
        Fail(c, "set dated in the future removed: " + s.id);
      }
    }
    if (s.state == State::kFailed && s.time > failed_from && !kept[i]) {
      Fail(c, "failed set younger than failed_max_age removed: " + s.id);
    }
    auto base = index.find(s.base_id);
    if (kept[i] && base != index.end() && !kept[base->second]) {
      Fail(c, "kept " + s.id + " but removed its base " + s.base_id);
    }
  }
  if (kept_complete <
      std::min(complete, static_cast<size_t>(c.rules.keep_min_complete()))) {
    Fail(c, absl::StrCat("kept ", kept_complete, " complete sets, below ",
                         "keep_min_complete"));
  }

  // And the whole decision.
  const std::vector<bool> expected = Expected(c, order);
  for (size_t i = 0; i < c.sets.size(); ++i) {
    if (expected[i] != kept[i]) {
      std::string reasons;
      for (const RetentionDecision& d : *decisions) {
        if (d.id == c.sets[i].id) {
          for (const std::string& why : d.reasons) {
            absl::StrAppend(&reasons, " [", why, "]");
          }
        }
      }
      Fail(c, absl::StrCat(c.sets[i].id, ": expected ",
                           expected[i] ? "keep" : "remove", ", got ",
                           kept[i] ? "keep" : "remove", reasons));
    }
  }
  return 0;
}
