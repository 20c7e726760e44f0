// A fleet on loopback: 20 agents (a core and a DAM agent for each of two
// releases in each of five namespaces), two policies, limits on concurrent
// sets, retention per group, and an agent that goes offline.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dxbackup/v1/admin.pb.h"
#include "tests/support/random_bytes.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

using testing::ChildProcess;
using testing::RandomBytes;
using testing::RunCommand;
using testing::WriteFile;

const std::string kBin = DXBACKUP_BIN_DIR;

constexpr int kNamespaces = 5;
constexpr int kReleases = 2;
constexpr int kMaxSets = 3;

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The policies run when the test says (`backup --policy`): schedules
    // that cannot come due during a test, since a slot of a "-spread"
    // schedule firing mid-test would add a set the counts below do not
    // expect.
    // Liveness: the rule itself (silent longer than allowed: offline; a
    // heartbeat starts the silence again) is tested on simulated time in
    // agent_registry_test. Here it is seen end to end, with 20 missed
    // heartbeats allowed, so that a busy machine (20 agents, sanitizers,
    // two tests at once) would have to starve an agent for 20 s before the
    // counts below could change.
    WriteFile(dir_ / "scheduler.yaml", R"(
limits: {max_sets: 3, max_sets_per_namespace: 1}
prune_schedule: "0 0 1 1 *"
heartbeat_seconds: 1
offline_after_heartbeats: 20
policies:
  - name: core-nightly
    selector: {namespaces: ["fleet-*"], component: core}
    schedule: "0 0 1 1 *"
    retention: {keep_last: 2}
  - name: dam-hourly
    selector: {namespaces: ["fleet-*"], component: dam}
    schedule: "0 0 1 1 *"
    retention: {keep_last: 1}
)");
    scheduler_ = std::make_unique<testing::SchedulerProcess>(
        testing::SchedulerIn(dir_.path()));
    address_ = scheduler_->address();
    ASSERT_FALSE(address_.empty()) << scheduler_->Output();
    cli_ = std::make_unique<testing::CliClient>(address_);
    for (int n = 0; n < kNamespaces; ++n) {
      for (int r = 0; r < kReleases; ++r) {
        for (const std::string component : {"core", "dam"}) {
          const std::string ns = "fleet-" + std::to_string(n);
          const std::string release = "r" + std::to_string(r);
          const std::string pod = ns + "-" + release + "-" + component;
          const std::string volume = dir_ / ("volumes/" + pod);
          // ~192 KiB at 128 KiB/s: each set lasts a second or two, so sets
          // that the limits failed to hold back would overlap.
          WriteFile(volume + "/data.bin", RandomBytes(192 << 10, n * 10 + r));
          testing::AgentOptions agent =
              testing::AgentOf(address_, ns, release, pod, component,
                               {"data=" + volume}, dir_ / (pod + ".log"));
          agent.flags = {"--limit-upload-kib", "128"};
          agent.wait = false;  // all start at once; waited for below
          agents_[pod] = std::make_unique<testing::AgentProcess>(agent);
        }
      }
    }
    for (auto& [pod, agent] : agents_) {
      ASSERT_TRUE(agent->WaitRegistered()) << pod << ": " << agent->Output();
    }
  }

  // The most sets running at once, overall and per namespace, as the
  // scheduler's log tells it (a start is logged after the queue let it
  // go, an end before the queue frees its place, so this never overcounts).
  std::pair<int, int> PeakConcurrency() {
    std::ifstream log(dir_ / "scheduler.log");
    std::string line;
    std::regex start("starting a set of (fleet-[0-9]+)/(r[0-9]+)");
    std::regex end("set \\S+ of (fleet-[0-9]+)/(r[0-9]+) ended");
    std::map<std::string, int> per_ns;
    int running = 0, peak = 0, peak_ns = 0;
    std::smatch m;
    while (std::getline(log, line)) {
      if (std::regex_search(line, m, start)) {
        ++running;
        peak_ns = std::max(peak_ns, ++per_ns[m[1]]);
      } else if (std::regex_search(line, m, end)) {
        --running;
        --per_ns[m[1]];
      }
      peak = std::max(peak, running);
    }
    return {peak, peak_ns};
  }

  testing::TempDir dir_;
  std::string address_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::CliClient> cli_;
  std::map<std::string, std::unique_ptr<testing::AgentProcess>> agents_;
};

TEST_F(FleetTest, PoliciesRunWithinLimitsAndRetentionStaysInItsGroup) {
  EXPECT_EQ(cli_->Json<v1::ListAgentsResponse>({"agents"}).agents_size(), 20);
  auto policies = cli_->Json<v1::ListPoliciesResponse>({"policies"});
  ASSERT_EQ(policies.policies_size(), 2);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  for (const auto& p : policies.policies()) {
    EXPECT_EQ(p.targets_size(), kNamespaces * kReleases) << p.name();
    for (const auto& t : p.targets()) EXPECT_GT(t.next_run_unix(), now);
  }

  // Three runs of the core policy, one of the DAM policy.
  for (int run = 0; run < 3; ++run) {
    std::string out;
    ASSERT_EQ(cli_->Run({"backup", "--policy", "core-nightly"}, &out), 0)
        << out;
  }
  std::string out;
  ASSERT_EQ(cli_->Run({"backup", "--policy", "dam-hourly"}, &out), 0) << out;

  const auto [peak, peak_per_namespace] = PeakConcurrency();
  EXPECT_LE(peak, kMaxSets);
  EXPECT_GE(peak, 2) << "sets did run side by side";
  EXPECT_EQ(peak_per_namespace, 1);

  // Retention kept the newest two core sets and the newest DAM set in each
  // (namespace, release, policy) group, and nothing across groups.
  for (int n = 0; n < kNamespaces; ++n) {
    for (int r = 0; r < kReleases; ++r) {
      const std::string ns = "fleet-" + std::to_string(n);
      const std::string release = "r" + std::to_string(r);
      auto core = cli_->Json<v1::ListSetsResponse>(
          {"sets", "--namespace", ns, "--release", release, "--policy",
           "core-nightly"});
      ASSERT_EQ(core.sets_size(), 2) << ns << "/" << release;
      for (const auto& s : core.sets()) {
        EXPECT_EQ(s.status(), v1::SET_COMPLETE) << s.reason();
      }
      auto dam = cli_->Json<v1::ListSetsResponse>({"sets", "--namespace", ns,
                                                   "--release", release,
                                                   "--policy", "dam-hourly"});
      ASSERT_EQ(dam.sets_size(), 1) << ns << "/" << release;
      EXPECT_EQ(dam.sets(0).status(), v1::SET_COMPLETE);
    }
  }
  auto dry = cli_->Json<v1::PruneResponse>({"prune", "--dry-run"});
  EXPECT_EQ(dry.decisions_size(), kNamespaces * kReleases * 3);
  for (const auto& d : dry.decisions()) EXPECT_TRUE(d.keep()) << d.set().id();
}

TEST_F(FleetTest, AnOfflineAgentFailsItsSetFastWithTheReason) {
  agents_["fleet-3-r1-dam"]->Signal(SIGKILL);
  agents_["fleet-3-r1-dam"]->Wait();
  // The scheduler sees the stream end; the set then fails at once.
  ASSERT_FALSE(
      scheduler_->WaitForLine("agent fleet-3/r1/fleet-3-r1-dam disconnected")
          .empty());
  std::string out;
  EXPECT_EQ(cli_->Run({"backup", "--policy", "dam-hourly"}, &out), 1) << out;
  auto sets = cli_->Json<v1::ListSetsResponse>(
      {"sets", "--namespace", "fleet-3", "--release", "r1"});
  ASSERT_EQ(sets.sets_size(), 1);
  EXPECT_EQ(sets.sets(0).status(), v1::SET_FAILED);
  EXPECT_NE(sets.sets(0).reason().find("fleet-3/r1/fleet-3-r1-dam is offline"),
            std::string::npos)
      << sets.sets(0).reason();
  auto complete =
      cli_->Json<v1::ListSetsResponse>({"sets", "--status", "complete"});
  EXPECT_EQ(complete.sets_size(), kNamespaces * kReleases - 1);
}

TEST_F(FleetTest, AnAgentThatStopsHeartbeatingGoesOfflineAndComesBack) {
  // A frozen pod keeps its TCP connection but sends nothing.
  ChildProcess& agent = *agents_["fleet-1-r0-core"];
  agent.Signal(SIGSTOP);
  ASSERT_FALSE(scheduler_
                   ->WaitForLine(
                       "agent fleet-1/r0/fleet-1-r0-core sent no heartbeat for")
                   .empty())
      << scheduler_->Output();
  auto agents = cli_->Json<v1::ListAgentsResponse>({"agents"});
  for (const auto& a : agents.agents()) {
    EXPECT_EQ(a.connected(), a.pod() != "fleet-1-r0-core") << a.pod();
  }
  std::string out;
  EXPECT_EQ(cli_->Run({"backup", "--policy", "core-nightly"}, &out), 1) << out;
  EXPECT_NE(out.find("fleet-1/r0/fleet-1-r0-core is offline"),
            std::string::npos)
      << out;
  // Thawed, it notices the closed stream and registers again.
  agent.Signal(SIGCONT);
  ASSERT_FALSE(agent.WaitForNthLine("registered with the scheduler", 2).empty())
      << agent.Output();
  EXPECT_EQ(cli_->Run({"backup", "--policy", "core-nightly"}, &out), 0) << out;
}

}  // namespace
}  // namespace dxbackup
