#include "scheduler/policy/retention.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "scheduler/policy/cron_schedule.h"

namespace dxbackup::scheduler {
namespace {

using State = RetentionCandidate::State;

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi),
                         absl::UTCTimeZone());
}

std::string Id(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M", t, absl::UTCTimeZone());
}

RetentionCandidate Complete(absl::Time t) { return {Id(t), t}; }

std::set<std::string> Kept(const v1::Retention& rules,
                           std::vector<RetentionCandidate> sets, absl::Time now,
                           absl::TimeZone tz = absl::UTCTimeZone()) {
  auto decisions = ApplyRetention(rules, tz, now, std::move(sets));
  EXPECT_TRUE(decisions.ok()) << decisions.status();
  std::set<std::string> kept;
  for (const auto& d : *decisions) {
    EXPECT_FALSE(d.reasons.empty()) << d.id << " has a reason";
    if (d.keep) kept.insert(d.id);
  }
  return kept;
}

v1::Retention Rules(const std::string& text) {
  // "last=1 daily=4 within=7d min=2 failed=3d"
  v1::Retention r;
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    const std::string key = item.substr(0, item.find('='));
    const std::string value = item.substr(item.find('=') + 1);
    if (key == "last") r.set_keep_last(std::stoi(value));
    if (key == "hourly") r.set_keep_hourly(std::stoi(value));
    if (key == "daily") r.set_keep_daily(std::stoi(value));
    if (key == "weekly") r.set_keep_weekly(std::stoi(value));
    if (key == "monthly") r.set_keep_monthly(std::stoi(value));
    if (key == "yearly") r.set_keep_yearly(std::stoi(value));
    if (key == "within") r.set_keep_within(value);
    if (key == "min") r.set_keep_min_complete(std::stoi(value));
    if (key == "failed") r.set_failed_max_age(value);
  }
  return r;
}

// restic's documentation: one backup every Sunday for 12 weeks, then
// `forget --keep-daily 4` keeps the last four Sundays.
TEST(RetentionTest, ResticExampleTwelveSundaysKeepDailyFour) {
  std::vector<RetentionCandidate> sets;
  for (int week = 0; week < 12; ++week) {
    sets.push_back(Complete(Utc(2019, 9, 1, 11) + absl::Hours(24 * 7 * week)));
  }
  EXPECT_EQ(Kept(Rules("daily=4"), sets, Utc(2019, 11, 20)),
            (std::set<std::string>{"2019-10-27T11:00", "2019-11-03T11:00",
                                   "2019-11-10T11:00", "2019-11-17T11:00"}));
}

// restic's documentation: a backup every day for 100 years and
// --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --keep-yearly 75 keeps the
// 7 newest dailies, then 4 more weeklies (the dailies hold one), 12 or 11
// monthlies and 75 or 74 yearlies, less what earlier rules already kept.
// Ending on Sunday 2026-11-29: each rule matches exactly its count, and the
// distinct sets are 7 + 4 + 11 + 73 (this year's and last December's
// yearlies are already monthlies).
TEST(RetentionTest, ResticExampleHundredYearsOfDailies) {
  std::vector<RetentionCandidate> sets;
  for (absl::CivilDay d(1926, 12, 1); d <= absl::CivilDay(2026, 11, 29); ++d) {
    sets.push_back(
        Complete(absl::FromCivil(d, absl::UTCTimeZone()) + absl::Hours(2)));
  }
  auto decisions =
      ApplyRetention(Rules("daily=7 weekly=5 monthly=12 yearly=75"),
                     absl::UTCTimeZone(), Utc(2026, 11, 30), sets);
  ASSERT_TRUE(decisions.ok());
  std::map<std::string, int> per_rule;
  int kept = 0;
  for (const auto& d : *decisions) {
    if (!d.keep) continue;
    ++kept;
    for (const auto& r : d.reasons) ++per_rule[r];
  }
  EXPECT_EQ(per_rule,
            (std::map<std::string, int>{
                {"daily", 7}, {"weekly", 5}, {"monthly", 12}, {"yearly", 75}}));
  EXPECT_EQ(kept, 7 + 4 + 11 + 73);
  for (int i = 0; i < 7; ++i) EXPECT_TRUE((*decisions)[i].keep) << i;
  EXPECT_EQ((*decisions)[7].reasons, std::vector<std::string>{"weekly"});
}

struct Case {
  std::string name;
  std::string rules;
  std::vector<RetentionCandidate> sets;
  absl::Time now;
  std::string zone;
  std::set<std::string> want;
};

class RetentionTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(RetentionTableTest, KeepsWhatTheRulesSay) {
  const Case& c = GetParam();
  EXPECT_EQ(Kept(Rules(c.rules), c.sets, c.now, *LoadZone(c.zone)), c.want);
}

const absl::Time kNow = Utc(2026, 11, 28, 12);

INSTANTIATE_TEST_SUITE_P(
    Table, RetentionTableTest,
    ::testing::Values(
        Case{"KeepLastWithEqualTimes",
             "last=1",
             {{"a", Utc(2026, 11, 1)}, {"b", Utc(2026, 11, 1)}},
             kNow,
             "",
             {"b"}},
        Case{"OldestKeptWhileCountsRemain",
             "daily=5",
             {Complete(Utc(2026, 11, 27, 3)), Complete(Utc(2026, 11, 27, 1)),
              Complete(Utc(2026, 11, 26, 3))},
             kNow,
             "",
             {"2026-11-27T03:00", "2026-11-26T03:00"}},
        // 00:30Z and 01:30Z are both 02:30 in Berlin on 2026-10-25, when
        // the clocks go back: one local hour, so one hourly bucket.
        Case{"HourBucketsAcrossDstRepeatInBerlin",
             "hourly=2",
             {Complete(Utc(2026, 10, 24, 22, 30)),
              Complete(Utc(2026, 10, 25, 0, 30)),
              Complete(Utc(2026, 10, 25, 1, 30))},
             kNow,
             "Europe/Berlin",
             {"2026-10-25T01:30", "2026-10-24T22:30"}},
        Case{"HourBucketsAcrossDstRepeatInUtc",
             "hourly=2",
             {Complete(Utc(2026, 10, 24, 22, 30)),
              Complete(Utc(2026, 10, 25, 0, 30)),
              Complete(Utc(2026, 10, 25, 1, 30))},
             kNow,
             "UTC",
             {"2026-10-25T01:30", "2026-10-25T00:30"}},
        // 2026-03-29 02:00 does not exist in Berlin: 00:59Z is 01:59 and
        // 01:00Z is 03:00, two local days' hours apart by one real minute.
        Case{"DayBucketsAcrossDstGap",
             "daily=1 hourly=2",
             {Complete(Utc(2026, 3, 29, 0, 59)),
              Complete(Utc(2026, 3, 29, 1, 0)),
              Complete(Utc(2026, 3, 28, 23, 30))},
             kNow,
             "Europe/Berlin",
             {"2026-03-29T01:00", "2026-03-29T00:59"}},
        Case{"YearEndInUtc",
             "yearly=2",
             {Complete(Utc(2026, 6, 1)), Complete(Utc(2026, 12, 31, 23, 30)),
              Complete(Utc(2027, 1, 1, 0, 30))},
             Utc(2027, 2, 1),
             "",
             {"2027-01-01T00:30", "2026-12-31T23:30"}},
        Case{"YearEndInNewYork",
             "yearly=2",
             {Complete(Utc(2026, 6, 1)), Complete(Utc(2026, 12, 31, 23, 30)),
              Complete(Utc(2027, 1, 1, 0, 30))},
             Utc(2027, 2, 1),
             "America/New_York",
             {"2027-01-01T00:30", "2026-06-01T00:00"}},
        Case{"MonthEnds",
             "monthly=2",
             {Complete(Utc(2026, 1, 31, 23)), Complete(Utc(2026, 2, 1, 1)),
              Complete(Utc(2026, 2, 28, 23)), Complete(Utc(2026, 3, 1, 1))},
             kNow,
             "",
             {"2026-03-01T01:00", "2026-02-28T23:00"}},
        Case{"WithinIsRelativeToTheNewest",
             "within=2d",
             {Complete(Utc(2026, 11, 10)), Complete(Utc(2026, 11, 9, 1)),
              Complete(Utc(2026, 11, 7, 23))},
             kNow,
             "",
             {"2026-11-10T00:00", "2026-11-09T01:00"}},
        Case{"EmptyPolicyKeepsEverything",
             "",
             {Complete(Utc(2020, 1, 1)), Complete(Utc(2021, 1, 1))},
             kNow,
             "",
             {"2020-01-01T00:00", "2021-01-01T00:00"}},
        Case{"FailedSetsCountForNothingAndExpire",
             "last=1 failed=3d",
             {Complete(Utc(2026, 11, 1)),
              {"failed-new", Utc(2026, 11, 27), State::kFailed},
              {"failed-old", Utc(2026, 11, 20), State::kFailed}},
             kNow,
             "",
             {"2026-11-01T00:00", "failed-new"}},
        Case{"MinCompleteFloor",
             "last=1 min=3",
             {Complete(Utc(2026, 11, 1)), Complete(Utc(2026, 11, 2)),
              Complete(Utc(2026, 11, 3)), Complete(Utc(2026, 11, 4))},
             kNow,
             "",
             {"2026-11-04T00:00", "2026-11-03T00:00", "2026-11-02T00:00"}},
        Case{"FloorAddsToWhatTheRulesKeep",
             "within=1d min=2",
             {Complete(Utc(2026, 1, 1)),
              Complete(Utc(2026, 1, 5)),
              Complete(Utc(2026, 11, 1)),
              {"failed", Utc(2026, 11, 28, 1), State::kFailed}},
             kNow,
             "",
             {"2026-11-01T00:00", "2026-01-05T00:00", "failed"}},
        // Nothing complete, every failure old: nothing is worth keeping.
        Case{"OnlyOldFailuresAllGo",
             "last=3 min=2 failed=1d",
             {{"f1", Utc(2026, 11, 1), State::kFailed},
              {"f2", Utc(2026, 11, 2), State::kFailed}},
             kNow,
             "",
             {}},
        Case{"RunningSetsStay",
             "last=1",
             {Complete(Utc(2026, 11, 1)), {"now", kNow, State::kRunning}},
             kNow,
             "",
             {"2026-11-01T00:00", "now"}},
        Case{"FutureSetsStay",
             "last=1",
             {Complete(Utc(2026, 11, 1)), Complete(Utc(2026, 11, 2)),
              Complete(Utc(2027, 1, 1))},
             kNow,
             "",
             {"2027-01-01T00:00", "2026-11-02T00:00"}},
        Case{"BasesOfKeptSetsStay",
             "last=1",
             {{"full", Utc(2026, 11, 1)},
              {"incr1", Utc(2026, 11, 2), State::kComplete, "full"},
              {"incr2", Utc(2026, 11, 3), State::kComplete, "incr1"},
              {"other", Utc(2026, 10, 1)}},
             kNow,
             "",
             {"incr2", "incr1", "full"}}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(RetentionTest, RejectsBadRules) {
  EXPECT_FALSE(ValidateRetention(Rules("last=-2")).ok());
  EXPECT_FALSE(ValidateRetention(Rules("within=7w")).ok());
  EXPECT_FALSE(ValidateRetention(Rules("failed=soon")).ok());
  EXPECT_TRUE(ValidateRetention(Rules("last=-1 within=1y2m3d4h")).ok());
}

TEST(RetentionTest, SaysWhyForEverySet) {
  auto decisions =
      ApplyRetention(Rules("daily=1 weekly=1"), absl::UTCTimeZone(), kNow,
                     {Complete(Utc(2026, 11, 27)), Complete(Utc(2026, 11, 1))});
  ASSERT_TRUE(decisions.ok());
  EXPECT_EQ((*decisions)[0].reasons,
            (std::vector<std::string>{"daily", "weekly"}));
  EXPECT_FALSE((*decisions)[1].keep);
  EXPECT_EQ((*decisions)[1].reasons,
            (std::vector<std::string>{"no rule keeps it"}));
}

}  // namespace
}  // namespace dxbackup::scheduler
