// A policy's scheduled restore drills, end to end on simulated time: the
// scheduler runs in this process on a FakeTimeSource (so its drill slots
// come when the test moves time, not after a real wait), with a real agent
// process, a real PostgreSQL and the real CLI. The first slot drills the
// policy's newest complete set, which passes and meets the policy's RTO;
// after the set's dump is damaged in the store, the next slot's drill of it
// fails, and the failure reaches a webhook.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "dxbackup/v1/admin.pb.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/drills/drill_runner.h"
#include "scheduler/server/scheduler_server.h"
#include "tests/support/fake_time_source.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"
#include "tests/support/webhook_receiver.h"

namespace dxbackup {
namespace {

using testing::WriteFile;

class ScheduledDrillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chmod(dir_.path().c_str(), 0755);  // the postgres user enters it
    std::string out;
    ASSERT_EQ(pg_.Start(&out), 0) << out;
    ASSERT_EQ(pg_.Run({"createdb", "appdb"}, &out), 0) << out;
    ASSERT_EQ(pg_.Run({"psql", "-q", "-d", "appdb", "-c",
                       "CREATE TABLE items (id int PRIMARY KEY, name text); "
                       "INSERT INTO items SELECT g, 'item ' || g FROM "
                       "generate_series(1, 500) g;"},
                      &out),
              0)
        << out;
    for (int i = 0; i < 20; ++i) {
      WriteFile(dir_ / ("profile/config/file" + std::to_string(i) + ".xml"),
                std::string(1000 + i, 'x'));
    }
    // The webhook receiver, told of failed drills.
    receiver_ = testing::StartReceiver("0", dir_ / "received.jsonl",
                                       dir_ / "receiver.log");
    const std::string line = receiver_->WaitForLine("listening on port");
    ASSERT_FALSE(line.empty()) << receiver_->Output();
    const std::string receiver_port = line.substr(line.rfind(' ') + 1);

    // Time starts at 08:00 UTC; the drills are due at 08:30, 08:45, 08:50;
    // the policy's own sets (03:00) never come in the test's time. Agents
    // heartbeat in real time, seen at simulated times: they stay online
    // across the hour the test moves.
    WriteFile(dir_ / "scheduler.yaml",
              "heartbeat_seconds: 60\n"
              "offline_after_heartbeats: 1000\n"
              "deployments:\n"
              "  - namespace: ns\n"
              "    release: dx\n"
              "    databases:\n" +
                  pg_.DatabaseConfig("appdb") +
                  "notifications:\n"
                  "  webhooks:\n"
                  "    - name: ops\n"
                  "      url: http://127.0.0.1:" +
                  receiver_port +
                  "/hook\n"
                  "      events: [drill_failed]\n"
                  "policies:\n"
                  "  - name: nightly\n"
                  "    selector: {namespaces: [ns], release: dx}\n"
                  "    schedule: \"0 3 * * *\"\n"
                  "    rto_seconds: 3600\n"
                  "    drill:\n"
                  "      schedule: \"30,45,50 8 * * *\"\n"
                  "      to_dir: " +
                  dir_ / "drills" +
                  "\n"
                  // The application's own check: the profile's file came
                  // back, the database is named, and no `fail` file exists.
                  "      smoke:\n"
                  "        shell: true\n"
                  "        command: ['find \"$DXBACKUP_DRILL_DIR\" -name "
                  "file3.xml | grep -q . && case \"$DXBACKUP_DRILL_DATABASES\" "
                  "in appdb=dxdrill_*) ;; *) exit 3;; esac && if test -f " +
                  dir_ / "fail" +
                  "; then echo the portal did not start >&2; exit 1; fi']\n");
    auto config = scheduler::LoadSchedulerConfig(dir_ / "scheduler.yaml");
    ASSERT_TRUE(config.ok()) << config.status();
    scheduler::SchedulerServer::Options options;
    options.listen = "127.0.0.1:0";
    options.tls.insecure_loopback = true;
    options.data_dir = dir_ / "data";
    options.config = *config;
    auto server = scheduler::SchedulerServer::Start(options, &time_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    agent_ = std::make_unique<testing::AgentProcess>(
        testing::AgentOf(address_, "ns", "dx", "dx-core-0", "core",
                         {"profile=" + dir_ / "profile"}, dir_ / "agent.log"));
    ASSERT_TRUE(agent_->registered()) << agent_->Output();
  }

  void TearDown() override {
    agent_.reset();
    if (server_) server_->Shutdown();
    if (receiver_) receiver_->Signal(SIGTERM);
  }

  // Moves simulated time on by `minutes`: the ticker wakes and ticks at
  // the new time, starting the drills due (on threads of their own).
  void Advance(int minutes) { time_.Advance(std::chrono::minutes(minutes)); }

  v1::BackupSet SetOf(const std::string& id) {
    auto set = server_->catalog()->GetSet(id);
    EXPECT_TRUE(set.ok()) << set.status();
    return set.ok() ? *set : v1::BackupSet();
  }

  testing::TempDir dir_;
  testing::PgTestServer pg_{dir_ / "pg"};
  testing::FakeTimeSource time_;
  std::unique_ptr<testing::ChildProcess> receiver_;
  std::unique_ptr<scheduler::SchedulerServer> server_;
  std::string address_;
  std::unique_ptr<testing::AgentProcess> agent_;
};

TEST_F(ScheduledDrillTest, EachSlotDrillsTheNewestSetPassingThenFailingLoudly) {
  testing::CliClient cli(address_);
  std::string out;
  ASSERT_EQ(cli.Run({"backup", "--policy", "nightly"}, &out), 0) << out;
  v1::ListSetsRequest complete;
  complete.set_status(v1::SET_COMPLETE);
  auto sets = server_->catalog()->ListSets(complete);
  ASSERT_TRUE(sets.ok() && sets->size() == 1u) << out;
  const std::string set_id = (*sets)[0].id();
  EXPECT_FALSE(SetOf(set_id).has_drill()) << "nothing drills before its slot";

  // 08:31: the first slot's drill.
  Advance(31);
  ASSERT_TRUE(server_->drills()->AwaitEnded(1, std::chrono::seconds(120)))
      << "no drill ended after the slot";
  v1::BackupSet drilled = SetOf(set_id);
  ASSERT_EQ(drilled.drill().result(), v1::Drill::PASSED)
      << drilled.drill().detail();
  EXPECT_NE(drilled.drill().detail().find("500 rows"), std::string::npos)
      << drilled.drill().detail();
  EXPECT_NE(drilled.drill().detail().find("ok smoke test"), std::string::npos)
      << drilled.drill().detail();
  // The drill is stamped with the simulated time it ended at.
  EXPECT_GE(drilled.drill().drilled_unix(), 1800000000 + 31 * 60);
  // Cleaned up: nothing left under the drill directory, no scratch database.
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "drills"))
      << "the drill's directory stays";
  ASSERT_EQ(pg_.Run({"psql", "-tA", "-d", "appdb", "-c",
                     "SELECT count(*) FROM pg_database WHERE datname LIKE "
                     "'dxdrill_%'"},
                    &out),
            0);
  EXPECT_EQ(out, "0\n");
  // `policies` measures the RTO against the drill.
  auto policies = cli.Json<v1::ListPoliciesResponse>({"policies"});
  ASSERT_EQ(policies.policies_size(), 1);
  ASSERT_EQ(policies.policies(0).targets_size(), 1);
  EXPECT_TRUE(policies.policies(0).targets(0).has_rto_met());
  EXPECT_TRUE(policies.policies(0).targets(0).rto_met());
  EXPECT_EQ(policies.policies(0).targets(0).last_drill_unix(),
            drilled.drill().drilled_unix());

  // 08:46: the smoke test fails; so does the drill, with its stderr.
  WriteFile(dir_ / "fail", "");
  Advance(15);
  ASSERT_TRUE(server_->drills()->AwaitEnded(2, std::chrono::seconds(120)));
  drilled = SetOf(set_id);
  EXPECT_EQ(drilled.drill().result(), v1::Drill::FAILED);
  EXPECT_NE(
      drilled.drill().detail().find(
          "smoke test: hook drill-smoke exited with status 1: the portal did "
          "not start on dx-core-0"),
      std::string::npos)
      << drilled.drill().detail();
  std::filesystem::remove(dir_ / "fail");

  // The dump is damaged in the store after the fact: the 08:50 slot's drill
  // of the same set fails, says why, and the webhook hears of it.
  auto artifacts = server_->catalog()->ListArtifacts(set_id);
  ASSERT_TRUE(artifacts.ok());
  std::string dump;
  for (const v1::Artifact& a : *artifacts) {
    if (a.kind() == v1::ARTIFACT_PG_DUMP)
      dump = dir_ / ("data/store/" + a.path());
  }
  ASSERT_FALSE(dump.empty());
  {
    std::fstream f(dump, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.write("\xde\xad\xbe\xef", 4);
  }
  Advance(5);
  ASSERT_TRUE(server_->drills()->AwaitEnded(3, std::chrono::seconds(120)));
  drilled = SetOf(set_id);
  EXPECT_EQ(drilled.drill().result(), v1::Drill::FAILED);
  EXPECT_NE(drilled.drill().detail().find("db/appdb"), std::string::npos)
      << drilled.drill().detail();
  policies = cli.Json<v1::ListPoliciesResponse>({"policies"});
  EXPECT_FALSE(policies.policies(0).targets(0).rto_met())
      << "a failed drill meets no RTO";
  auto received = testing::Received(dir_ / "received.jsonl", 2);
  ASSERT_EQ(received.size(), 2u) << "each failed drill is told";
  const std::string body = received[1].fields().at("body").string_value();
  EXPECT_NE(body.find("drill_failed"), std::string::npos) << body;
  EXPECT_NE(body.find(set_id), std::string::npos) << body;
}

}  // namespace
}  // namespace dxbackup
