// Active replicas: three dxbackup-scheduler processes that all serve, on
// one PostgreSQL catalog and one S3 bucket, each on its own address
// (--advertise) and all sharing one more (the Service's: SO_REUSEPORT
// deals its connections among them, as kube-proxy would). 20 agents in
// five namespaces dial the shared address and are sent on to the replica
// that owns their deployment; a policy's slots come every minute. The
// replica running fleet-0/r0 is killed (SIGKILL) while that set's
// pre-hook holds it: within its lease another replica takes the
// deployment over, fails the set with the reason after running the
// post-hook it owed, its agents come back, and every deployment's next
// slot runs. The killed replica comes back as a new one; nothing runs
// twice, and the fleet's limits and retention hold across the replicas.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dxbackup/v1/admin.pb.h"
#include "tests/integration/replicas_fleet.h"
#include "tests/support/s3_test_server.h"
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

class ActiveReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    ASSERT_TRUE(testing::S3TestServerInstalled(&missing)) << missing;
    chmod(dir_.path().c_str(), 0755);  // the postgres user enters it
    s3_ = std::make_unique<testing::S3TestServer>(dir_ / "s3");
    ASSERT_TRUE(s3_->running()) << s3_->Output();
    std::string out;
    ASSERT_EQ(pg_.Start(&out), 0) << out;
    ASSERT_EQ(pg_.Run({"createdb", "dxcatalog"}, &out), 0) << out;
    service_ = "127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort());
    // fleet-0/r0's core pre-hook holds its sets until the gate exists.
    config_ = testing::FleetConfig(pg_,
                                   R"(store:
  s3:
    endpoint: )" + s3_->endpoint() + R"(
    bucket: )" + s3_->bucket() + R"(
    prefix: fleet
    access_key_file: )" + s3_->access_key_file() +
                                       R"(
    secret_key_file: )" + s3_->secret_key_file() +
                                       R"(
    path_style: true)",
                                   gate(), dir_ / "post-hook.log");
  }

  std::string gate() const { return dir_ / "gate"; }

  // A replica named `name` on an address of its own (kept in
  // advertised_), sharing the Service's address, the bucket and the
  // catalog.
  std::unique_ptr<testing::SchedulerProcess> StartReplica(
      const std::string& name) {
    testing::SchedulerOptions options =
        testing::SchedulerIn(dir_ / name, config_);
    options.listen = service_;
    advertised_[name] =
        "127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort());
    options.flags = {"--advertise", advertised_[name]};
    return std::make_unique<testing::SchedulerProcess>(options);
  }

  // The deployments the catalog says the replica at `address` owns.
  std::set<std::string> OwnedBy(const std::string& address) {
    std::string out;
    EXPECT_EQ(pg_.Run({"psql", "-d", "dxcatalog", "-Atc",
                       "SELECT o.namespace || '/' || o.release FROM "
                       "deployment_owners o JOIN replicas r ON r.id = "
                       "o.replica WHERE r.address = '" +
                           address + "'"},
                      &out),
              0)
        << out;
    std::set<std::string> owned;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) owned.insert(line);
    }
    return owned;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::S3TestServer> s3_;
  testing::PgTestServer pg_{dir_ / "pg"};
  std::string service_;
  std::string config_;
  std::map<std::string, std::string> advertised_;  // by replica name
};

TEST_F(ActiveReplicasTest, EverySlotRunsOnceWhenAReplicaIsKilled) {
  std::map<std::string, std::unique_ptr<testing::SchedulerProcess>> replicas;
  for (const std::string name : {"a", "b", "c"}) {
    replicas[name] = StartReplica(name);
    ASSERT_FALSE(replicas[name]->address().empty()) << replicas[name]->Output();
  }

  // A scheduler started without --advertise on the same catalog would end
  // the replicas' running sets at its start: it waits as a standby.
  testing::SchedulerOptions intruder_options =
      testing::SchedulerIn(dir_ / "intruder", config_);
  intruder_options.listen =
      "127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort());
  intruder_options.await_listening = false;
  testing::SchedulerProcess intruder(intruder_options);
  ASSERT_NE(intruder.WaitForLine("standby: another scheduler is active"), "")
      << intruder.Output();

  // 20 agents: a core and a DAM agent for each of two releases in each of
  // five namespaces, all dialling the Service's address.
  testing::FleetAgents fleet = testing::StartFleetAgents(dir_.path(), service_);
  auto& agents = fleet.all;
  testing::AgentProcess* held = fleet.held;
  for (auto& agent : agents) {
    ASSERT_TRUE(agent->WaitRegistered()) << agent->Output();
  }

  // The first slot: fleet-0/r0's pre-hook holds its set; the replica
  // running it dies under it.
  ASSERT_NE(held->WaitForLine("running hook stop", kSlotWait), "")
      << held->Output();
  std::string killed_name;
  for (auto& [name, replica] : replicas) {
    if (testing::CountOf(replica->Output(), "starting a set of fleet-0/r0") >
        0) {
      killed_name = name;
    }
  }
  ASSERT_NE(killed_name, "");
  testing::SchedulerProcess* killed = replicas[killed_name].get();
  const std::string killed_address = advertised_[killed_name];
  const std::set<std::string> moved = OwnedBy(killed_address);
  ASSERT_EQ(moved.count("fleet-0/r0"), 1u) << killed_address;
  // The deployments spread over the replicas (each agent's deployment is
  // claimed by the replica its first connection reached).
  EXPECT_LT(moved.size(), size_t{kNamespaces * kReleases});
  killed->Signal(SIGKILL);
  killed->Wait();
  std::vector<testing::SchedulerProcess*> alive;
  for (auto& [name, replica] : replicas) {
    if (name != killed_name) alive.push_back(replica.get());
  }

  // Within the lease (20 s) and a look for orphans (10 s), another
  // replica takes fleet-0/r0 over, though its agent is still held.
  testing::SchedulerProcess* heir = nullptr;
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (heir == nullptr && std::chrono::steady_clock::now() < deadline) {
    for (testing::SchedulerProcess* r : alive) {
      if (!r->WaitForLine("takes fleet-0/r0 over", seconds(1)).empty()) {
        heir = r;
      }
    }
  }
  ASSERT_NE(heir, nullptr) << alive[0]->Output() << alive[1]->Output();
  testing::WriteFile(gate(), "");  // the hook ends; its agent comes back

  // The post-hook the killed replica owed ran there, and the agents of
  // every deployment it owned came back, to the survivors.
  ASSERT_NE(heir->WaitForLine("the post-hooks it owed were run", kSlotWait), "")
      << heir->Output();
  for (const std::string& deployment : moved) {
    for (testing::AgentProcess* agent : fleet.of[deployment]) {
      ASSERT_TRUE(agent->WaitRegistered(2)) << agent->Output();
    }
  }
  // The next slots run, for every deployment, on the replicas alive.
  auto completed = [&](const std::vector<testing::SchedulerProcess*>& among,
                       const std::string& deployment) {
    int n = 0;
    for (testing::SchedulerProcess* r : among) {
      n += testing::CountOf(r->Output(),
                            "of " + deployment + " ended SET_COMPLETE");
    }
    return n;
  };
  auto await_completed =
      [&](const std::vector<testing::SchedulerProcess*>& among,
          const std::string& deployment, int n) {
        const auto until = std::chrono::steady_clock::now() + kSlotWait;
        while (completed(among, deployment) < n &&
               std::chrono::steady_clock::now() < until) {
          among[0]->WaitForLine("\x01never", seconds(1));  // a second passes
        }
        return completed(among, deployment) >= n;
      };
  for (int ns = 0; ns < kNamespaces; ++ns) {
    for (int r = 0; r < kReleases; ++r) {
      ASSERT_TRUE(await_completed(alive, testing::FleetDeployment(ns, r), 1))
          << testing::FleetDeployment(ns, r) << "\n"
          << alive[0]->Output() << alive[1]->Output();
    }
  }

  // The killed replica comes back (a new replica); the next slot after
  // that runs exactly once for every deployment.
  const int64_t restarted_at = absl::ToUnixSeconds(absl::Now());
  auto back = StartReplica(killed_name + "-again");
  ASSERT_FALSE(back->address().empty()) << back->Output();
  alive.push_back(back.get());
  std::map<std::string, int> before;
  for (int ns = 0; ns < kNamespaces; ++ns) {
    for (int r = 0; r < kReleases; ++r) {
      before[testing::FleetDeployment(ns, r)] =
          completed(alive, testing::FleetDeployment(ns, r));
    }
  }
  for (auto& [deployment, n] : before) {
    ASSERT_TRUE(await_completed(alive, deployment, n + 1))
        << deployment << "\n"
        << alive[0]->Output() << alive[1]->Output();
  }

  testing::CliClient cli(service_);
  auto sets = cli.Json<v1::ListSetsResponse>({"sets"});
  std::map<std::string, std::vector<v1::BackupSet>> by_deployment;
  for (const v1::BackupSet& set : sets.sets()) {
    by_deployment[set.namespace_() + "/" + set.release()].push_back(set);
    if (set.status() == v1::SET_COMPLETE) continue;
    if (set.status() == v1::SET_EXPIRING) continue;  // retention, now
    if (set.status() == v1::SET_RUNNING && set.started_unix() >= restarted_at)
      continue;
    // The sets the kill interrupted, and only those, failed: with the
    // reason, naming the replica.
    EXPECT_EQ(set.status(), v1::SET_FAILED) << set.ShortDebugString();
    EXPECT_NE(set.reason().find("the scheduler stopped while the set ran "
                                "(scheduler replica "),
              std::string::npos)
        << set.ShortDebugString();
    EXPECT_EQ(moved.count(set.namespace_() + "/" + set.release()), 1u)
        << set.ShortDebugString();
  }
  ASSERT_EQ(by_deployment.size(), size_t{kNamespaces * kReleases});
  const std::vector<v1::BackupSet>& first = by_deployment["fleet-0/r0"];
  const v1::BackupSet interrupted = first.back();  // newest first
  EXPECT_EQ(interrupted.status(), v1::SET_FAILED);
  EXPECT_NE(interrupted.reason().find("post-hook/start@fleet-0-r0-core ok"),
            std::string::npos)
      << interrupted.reason();

  // Nothing ran twice: one set per deployment per slot (minute), never two
  // at once; the limits held across the replicas.
  testing::ExpectOneSetPerSlot(by_deployment);
  testing::ExpectLimitsHeld(
      std::vector<v1::BackupSet>(sets.sets().begin(), sets.sets().end()),
      kMaxSets, 1);
  // Retention per group held: each group keeps its newest complete set
  // (keep_last: 1), whichever replica ran it; an older one may be going
  // as a set just ended.
  const auto plan = cli.Json<v1::PruneResponse>({"prune", "--dry-run"});
  std::map<std::string, std::vector<v1::BackupSet>> complete;
  for (const v1::PruneDecision& d : plan.decisions()) {
    if (d.set().status() != v1::SET_COMPLETE) continue;
    complete[d.set().namespace_() + "/" + d.set().release()].push_back(d.set());
  }
  ASSERT_EQ(complete.size(), size_t{kNamespaces * kReleases});
  for (auto& [deployment, list] : complete) EXPECT_LE(list.size(), 2u);
  EXPECT_EQ(testing::CountOf(intruder.Output(), "starting a set"), 0)
      << "still waiting";

  // Every agent is connected, to one replica or another: `agents` asks
  // them all.
  auto listed = cli.Json<v1::ListAgentsResponse>({"agents"});
  ASSERT_EQ(listed.agents_size(), static_cast<int>(agents.size()));
  for (const v1::AgentInfo& a : listed.agents()) {
    EXPECT_TRUE(a.connected()) << a.id();
  }

  // `backup --policy` through the Service runs the policy for every
  // deployment, whichever replica owns it: the CLI asks each replica.
  std::string out;
  ASSERT_EQ(cli.Run({"backup", "--policy", "minutely"}, &out), 0) << out;
  for (int ns = 0; ns < kNamespaces; ++ns) {
    for (int r = 0; r < kReleases; ++r) {
      EXPECT_EQ(
          testing::CountOf(out, testing::FleetDeployment(ns, r) + ": set "), 1)
          << testing::FleetDeployment(ns, r) << "\n"
          << out;
    }
  }
}

}  // namespace
}  // namespace dxbackup
