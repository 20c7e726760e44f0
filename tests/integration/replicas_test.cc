// Scheduler replicas: three dxbackup-scheduler processes on one PostgreSQL
// catalog, one store and one address (as a Kubernetes Service gives them:
// the same port, which the active one serves), 20 agents in five
// namespaces and a policy whose slots come every minute. The active
// replica is killed (SIGKILL) while a set's pre-hook holds it; another
// takes over, fails that set with the reason after running the post-hook
// it owed, the agents come back to it, and the next slots run. The killed
// replica comes back as a standby, and the next slot runs exactly once.
// The fleet's limits hold throughout, and retention keeps each group's
// newest set.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dxbackup/v1/admin.pb.h"
#include "tests/integration/replicas_fleet.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

using std::chrono::seconds;

constexpr int kNamespaces = testing::kFleetNamespaces;
constexpr int kReleases = testing::kFleetReleases;
constexpr int kMaxSets = testing::kFleetMaxSets;
// A slot comes every minute; a wait for the next slot's sets may span two.
constexpr seconds kSlotWait(150);

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chmod(dir_.path().c_str(), 0755);  // the postgres user enters it
    std::string out;
    ASSERT_EQ(pg_.Start(&out), 0) << out;
    ASSERT_EQ(pg_.Run({"createdb", "dxcatalog"}, &out), 0) << out;
    listen_ = "127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort());
    // fleet-0/r0's core pre-hook holds its sets until the gate exists.
    config_ = testing::FleetConfig(pg_, "", gate(), dir_ / "post-hook.log");
  }

  std::string gate() const { return dir_ / "gate"; }

  // A replica named `name`: its own log and config copy, the shared
  // address, store and catalog. The first is active at once; the others
  // wait as standbys (`active` false: the caller waits for its line).
  std::unique_ptr<testing::SchedulerProcess> StartReplica(
      const std::string& name, bool active) {
    testing::SchedulerOptions options =
        testing::SchedulerIn(dir_ / name, config_);
    options.listen = listen_;
    options.data_dir = dir_ / "store";
    options.await_listening = active;
    return std::make_unique<testing::SchedulerProcess>(options);
  }

  // The first of `replicas` to print `needle`, within `timeout`; nullptr
  // if none did.
  testing::SchedulerProcess* FirstToSay(
      const std::vector<testing::SchedulerProcess*>& replicas,
      const std::string& needle, seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (testing::SchedulerProcess* r : replicas) {
        if (!r->WaitForLine(needle, seconds(1)).empty()) return r;
      }
    }
    return nullptr;
  }

  testing::TempDir dir_;
  testing::PgTestServer pg_{dir_ / "pg"};
  std::string listen_;
  std::string config_;
};

TEST_F(ReplicasTest, EverySlotRunsOnceThroughAKilledReplica) {
  auto a = StartReplica("a", true);
  ASSERT_FALSE(a->address().empty()) << a->Output();
  auto b = StartReplica("b", false);
  auto c = StartReplica("c", false);
  for (auto* standby : {b.get(), c.get()}) {
    ASSERT_NE(standby->WaitForLine("standby: another scheduler is active"), "")
        << standby->Output();
  }

  // 20 agents: a core and a DAM agent for each of two releases in each of
  // five namespaces, all dialling the one address.
  testing::FleetAgents fleet = testing::StartFleetAgents(dir_.path(), listen_);
  auto& agents = fleet.all;
  testing::AgentProcess* held = fleet.held;
  for (auto& agent : agents) {
    ASSERT_TRUE(agent->WaitRegistered()) << agent->Output();
  }

  // The first slot: fleet-0/r0's pre-hook holds its set; the active
  // replica dies under it.
  ASSERT_NE(held->WaitForLine("running hook stop", kSlotWait), "")
      << held->Output() << a->Output();
  a->Signal(SIGKILL);
  a->Wait();
  testing::SchedulerProcess* active =
      FirstToSay({b.get(), c.get()}, "taking over", seconds(90));
  ASSERT_NE(active, nullptr) << b->Output() << c->Output();
  testing::SchedulerProcess* standby = active == b.get() ? c.get() : b.get();
  ASSERT_EQ(active->AwaitListening(), listen_) << active->Output();
  testing::WriteFile(gate(), "");  // the hook ends; its agent comes back

  // The post-hook the killed replica owed ran on the one that took over
  // (the set's reason says so, below), and every agent came back to it.
  ASSERT_NE(active->WaitForLine("the post-hooks it owed were run", kSlotWait),
            "")
      << active->Output();
  for (auto& agent : agents) {
    ASSERT_TRUE(agent->WaitRegistered(2)) << agent->Output();
  }
  // The next slots run, there.
  for (int ns = 0; ns < kNamespaces; ++ns) {
    for (int r = 0; r < kReleases; ++r) {
      ASSERT_NE(active->WaitForLine("of " + testing::FleetDeployment(ns, r) +
                                        " ended SET_COMPLETE",
                                    kSlotWait),
                "")
          << active->Output();
    }
  }

  // The killed replica comes back, as a standby; the next slot after that
  // runs exactly once for every deployment.
  const int64_t restarted_at = absl::ToUnixSeconds(absl::Now());
  auto back = StartReplica("a-again", false);
  ASSERT_NE(back->WaitForLine("standby: another scheduler is active"), "")
      << back->Output();
  const std::string output = active->Output();
  for (int ns = 0; ns < kNamespaces; ++ns) {
    for (int r = 0; r < kReleases; ++r) {
      const std::string ended =
          "of " + testing::FleetDeployment(ns, r) + " ended SET_COMPLETE";
      ASSERT_NE(active->WaitForNthLine(
                    ended, testing::CountOf(output, ended) + 1, kSlotWait),
                "")
          << active->Output();
    }
  }
  for (auto* idle : {standby, back.get()}) {
    EXPECT_EQ(testing::CountOf(idle->Output(), "starting a set"), 0)
        << idle->Output();
  }

  testing::CliClient cli(listen_);
  auto sets = cli.Json<v1::ListSetsResponse>({"sets"});
  std::map<std::string, std::vector<v1::BackupSet>> by_deployment;
  for (const v1::BackupSet& set : sets.sets()) {
    by_deployment[set.namespace_() + "/" + set.release()].push_back(set);
    if (set.status() == v1::SET_COMPLETE) continue;
    // Retention (keep_last 1) may be removing an older set as we list.
    if (set.status() == v1::SET_EXPIRING) continue;
    // Slots go on coming: a set of one after the restart may still run.
    if (set.status() == v1::SET_RUNNING && set.started_unix() >= restarted_at)
      continue;
    // The sets the kill interrupted, and only those, failed: with the
    // reason.
    EXPECT_EQ(set.status(), v1::SET_FAILED) << set.ShortDebugString();
    EXPECT_NE(set.reason().find("the scheduler stopped while the set ran"),
              std::string::npos)
        << set.ShortDebugString();
  }
  ASSERT_EQ(by_deployment.size(), size_t{kNamespaces * kReleases});
  const std::vector<v1::BackupSet>& first = by_deployment["fleet-0/r0"];
  const v1::BackupSet killed = first.back();  // newest first: the oldest
  EXPECT_EQ(killed.status(), v1::SET_FAILED);
  EXPECT_NE(killed.reason().find("post-hook/start@fleet-0-r0-core ok"),
            std::string::npos)
      << killed.reason();

  // Nothing ran twice: one set per deployment per slot (minute), never two
  // at once; the limits held across the replicas.
  testing::ExpectOneSetPerSlot(by_deployment);
  testing::ExpectLimitsHeld(
      std::vector<v1::BackupSet>(sets.sets().begin(), sets.sets().end()),
      kMaxSets, 1);

  // Retention per group held across the replicas: after each set, its
  // group's older complete sets went (keep_last: 1), whichever replica ran
  // them, and no group's sets went for another's. On one listing (prune
  // --dry-run's): each group keeps its newest complete set, and any older
  // one (a set just ending leaves it for a moment) is to go.
  const auto plan = cli.Json<v1::PruneResponse>({"prune", "--dry-run"});
  std::map<std::string, std::vector<v1::BackupSet>> complete;
  std::map<std::string, bool> kept;
  for (const v1::PruneDecision& d : plan.decisions()) {
    kept[d.set().id()] = d.keep();
    if (d.set().status() != v1::SET_COMPLETE) continue;
    complete[d.set().namespace_() + "/" + d.set().release()].push_back(d.set());
  }
  ASSERT_EQ(complete.size(), size_t{kNamespaces * kReleases});
  int listed = 0, taken = 0;
  for (auto& [deployment, list] : complete) {
    std::sort(list.begin(), list.end(), [](const auto& x, const auto& y) {
      return x.started_unix() > y.started_unix();
    });
    EXPECT_LE(list.size(), 2u) << deployment;
    for (size_t i = 0; i < list.size(); ++i) {
      EXPECT_EQ(kept[list[i].id()], i == 0)
          << deployment << " " << list[i].id();
    }
    listed += static_cast<int>(list.size());
    for (auto* r : {a.get(), b.get(), c.get(), back.get()}) {
      taken += testing::CountOf(r->Output(),
                                "of " + deployment + " ended SET_COMPLETE");
    }
  }
  EXPECT_GE(taken, 2 * kNamespaces * kReleases);
  EXPECT_LT(listed, taken) << "retention removed none";
}

}  // namespace
}  // namespace dxbackup
