// The live display's arithmetic and its redraw, on a clock the test moves.
#include "tools/cli/run_progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace dxbackup::cli {
namespace {

v1::Job JobAt(const std::string& target, v1::JobStatus status, uint64_t bytes,
              uint64_t expected) {
  v1::Job job;
  job.set_target(target);
  job.set_status(status);
  job.set_bytes(bytes);
  job.set_expected_bytes(expected);
  return job;
}

TEST(RunProgressTest, LiveRedrawsEachTargetInPlaceWithRateAndEta) {
  std::ostringstream out;
  auto now = std::chrono::steady_clock::time_point();
  auto live = LiveProgress(&out, [&now] { return now; });
  const uint64_t mib = 1 << 20;
  live->Job(JobAt("core/profile", v1::JOB_PENDING, 0, 100 * mib));
  live->Job(JobAt("db/jcr", v1::JOB_PENDING, 0, 0));
  out.str("");
  live->Job(JobAt("core/profile", v1::JOB_RUNNING, 10 * mib, 100 * mib));
  now += std::chrono::seconds(10);
  live->Job(JobAt("core/profile", v1::JOB_RUNNING, 30 * mib, 100 * mib));
  const std::string drawn = out.str();
  // Back up over both rows, then each redrawn on its own cleared line.
  EXPECT_NE(drawn.rfind("\x1b[2A\r\x1b[2Kcore/profile"), std::string::npos)
      << drawn;
  // 20 MiB in 10 s: 2 MiB/s, 70 MiB left: 36 s (rounded up).
  EXPECT_NE(drawn.find("30.0 MiB  2.0 MiB/s  ETA 36s"), std::string::npos)
      << drawn;
  EXPECT_NE(drawn.find("\r\x1b[2Kdb/jcr"), std::string::npos) << drawn;
  EXPECT_EQ(ShortDuration(65), "1m05s");
  EXPECT_EQ(ShortDuration(7380), "2h03m");
}

// Found in review: a row longer than the terminal wrapped, and the
// redraw (up by rows, not screen lines) overwrote what was above it.
TEST(RunProgressTest, RowsAreCutToTheTerminalAndTooManyGoLineByLine) {
  std::ostringstream out;
  auto now = std::chrono::steady_clock::time_point();
  auto live = LiveProgress(
      &out, [&now] { return now; }, 40, 4);
  v1::Job failed = JobAt("core/profile", v1::JOB_FAILED, 0, 0);
  failed.set_error("the agent went away while it read wp_profile/config");
  live->Job(failed);
  std::string drawn = out.str();
  const std::string row = drawn.substr(drawn.rfind("\x1b[2K") + 4);
  EXPECT_EQ(row.size(), 40u) << "39 columns and the newline: " << row;
  // Three rows would not leave the cursor room on four lines.
  live->Job(JobAt("core/logs", v1::JOB_PENDING, 0, 0));
  out.str("");
  live->Job(JobAt("db/jcr", v1::JOB_PENDING, 0, 0));
  live->Job(JobAt("db/jcr", v1::JOB_RUNNING, 0, 0));
  EXPECT_EQ(out.str(), "\ndb/jcr: pending\ndb/jcr: running\n");
}

TEST(RunProgressTest, AMessageReplacesTheRowsWhichComeBackBelowIt) {
  std::ostringstream out;
  auto live = LiveProgress(
      &out, [] { return std::chrono::steady_clock::time_point(); });
  live->Job(JobAt("core/profile", v1::JOB_RUNNING, 0, 0));
  out.str("");
  live->Message("scale_to_one: dx-core was scaled to one replica");
  EXPECT_EQ(out.str().rfind("\x1b[1A\r\x1b[Jscale_to_one", 0), 0u) << out.str();
}

TEST(RunProgressTest, LinesSayEachChangeOnItsOwnLine) {
  std::ostringstream out;
  auto lines = LineProgress(&out);
  lines->Job(JobAt("core/profile", v1::JOB_PENDING, 0, 0));
  v1::Job failed = JobAt("core/profile", v1::JOB_FAILED, 0, 0);
  failed.set_error("agent gone");
  failed.set_error_code("UNAVAILABLE");
  lines->Job(failed);
  EXPECT_EQ(out.str(),
            "core/profile: pending\n"
            "core/profile: failed (UNAVAILABLE: agent gone)\n");
}

}  // namespace
}  // namespace dxbackup::cli
