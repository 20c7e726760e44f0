// A fixture for periodic tasks on simulated time: a FakeTimeSource (which
// is also the tasks' clock), a real SQLite catalog and agent registry,
// and a Ticker that tests register tasks with and then drive with Pass():
// time moves, the ticker ticks, and Pass() returns once it waits again. No
// test sleeps; nothing depends on how fast the machine is.
#ifndef DXBACKUP_TESTS_SCHEDULER_PERIODIC_PERIODIC_FIXTURE_H_
#define DXBACKUP_TESTS_SCHEDULER_PERIODIC_PERIODIC_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>

#include "absl/time/time.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/periodic/ticker.h"
#include "tests/support/fake_time_source.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {

// An agent's control stream that takes every message and drops it.
class NullChannel : public AgentChannel {
 public:
  bool Send(const v1::SchedulerMessage&) override { return true; }
  void Close(const std::string&) override {}
};

class PeriodicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = SqliteCatalog::Open(dir_ / "catalog.db");
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = std::move(*catalog);
    registry_ = std::make_unique<AgentRegistry>(catalog_.get(), &time_);
  }
  void TearDown() override { ticker_.Stop(); }

  // Starts the ticker; returns after its first tick.
  void StartTicking() {
    ticker_.Start();
    ASSERT_TRUE(time_.AwaitWaiters(1));
  }
  // Moves time by `d` (at least Ticker::kLongestWait, or past a task's
  // time, so that the ticker wakes) and returns after the tick it caused.
  void Pass(absl::Duration d) {
    const uint64_t round = time_.Advance(absl::ToChronoNanoseconds(d));
    ASSERT_TRUE(time_.AwaitWaiters(1, round)) << "the ticker did not tick";
  }
  absl::Time Now() const { return absl::FromChrono(time_.Now()); }
  // Moves time, before the ticker starts, to `when` (UTC).
  void StartAt(absl::CivilSecond when) {
    time_.Advance(absl::ToChronoNanoseconds(
        absl::FromCivil(when, absl::UTCTimeZone()) - Now()));
  }

  testing::TempDir dir_;
  testing::FakeTimeSource time_;  // 2027-01-15 08:00:00 UTC
  v1::SchedulerConfig config_;
  std::unique_ptr<SqliteCatalog> catalog_;
  std::unique_ptr<AgentRegistry> registry_;
  Ticker ticker_{&time_};
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_TESTS_SCHEDULER_PERIODIC_PERIODIC_FIXTURE_H_
