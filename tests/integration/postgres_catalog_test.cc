// The real dxbackup-scheduler with its catalog in PostgreSQL (`catalog:
// {postgres: ...}`): a set is taken, listed, indexed and restored as with
// SQLite; a scheduler started afresh (another data directory's state
// aside) sees the same catalog; and a catalog server that goes away makes
// calls fail naming it, then serve again once it is back.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "dxbackup/v1/admin.pb.h"
#include "tests/support/health_check.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_compare.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;

class PostgresCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chmod(dir_.path().c_str(), 0755);  // the postgres user enters it
    std::string out;
    ASSERT_EQ(pg_.Start(&out), 0) << out;
    ASSERT_EQ(pg_.Run({"createdb", "dxcatalog"}, &out), 0) << out;
    volume_ = dir_ / "volume";
    for (int i = 0; i < 20; ++i) {
      testing::WriteFile(volume_ + "/config/file" + std::to_string(i) + ".xml",
                         std::string(100 + i, 'x'));
    }
    testing::WriteFile(volume_ + "/wps.properties", "a=b\n");
    config_ =
        "catalog:\n"
        "  postgres:\n"
        "    host: " +
        pg_.dir() +
        "\n"
        "    user: dxadmin\n"
        "    dbname: dxcatalog\n"
        "    password_file: " +
        pg_.password_file() + "\n";
  }

  std::unique_ptr<testing::SchedulerProcess> StartScheduler(
      const std::string& name) {
    testing::SchedulerOptions options =
        testing::SchedulerIn(dir_ / name, config_);
    auto scheduler = std::make_unique<testing::SchedulerProcess>(options);
    EXPECT_FALSE(scheduler->address().empty()) << scheduler->Output();
    return scheduler;
  }

  // A scheduler on SQLite (the default) with `data` as its data directory
  // takes one complete set of dx-prod/dx and stops; the set's id, or ""
  // with the failure added.
  std::string TakeSetOnSqlite(const std::string& data) {
    testing::SchedulerOptions options =
        testing::SchedulerIn(dir_ / "lite", "policies: []\n");
    options.data_dir = data;
    testing::SchedulerProcess lite(options);
    if (lite.address().empty()) {
      ADD_FAILURE() << lite.Output();
      return "";
    }
    testing::AgentProcess agent(
        testing::AgentOf(lite.address(), "dx-prod", "dx", "dx-core-0", "core",
                         {"profile=" + volume_}, dir_ / "lite-agent.log"));
    if (!agent.registered()) {
      ADD_FAILURE() << agent.Output();
      return "";
    }
    std::string out;
    const v1::BackupSet set =
        testing::CliClient(lite.address()).Backup("dx-prod", "dx", 0, &out);
    EXPECT_EQ(set.status(), v1::SET_COMPLETE) << out;
    lite.Signal(SIGTERM);
    EXPECT_EQ(lite.Wait(), 0) << lite.Output();
    return set.status() == v1::SET_COMPLETE ? set.id() : "";
  }

  testing::TempDir dir_;
  testing::PgTestServer pg_{dir_ / "pg"};
  std::string volume_;
  std::string config_;
};

TEST_F(PostgresCatalogTest, ASetIsTakenListedIndexedAndRestored) {
  auto scheduler = StartScheduler("one");
  ASSERT_FALSE(scheduler->address().empty());
  testing::AgentProcess agent(
      testing::AgentOf(scheduler->address(), "dx-prod", "dx", "dx-core-0",
                       "core", {"profile=" + volume_}, dir_ / "agent.log"));
  ASSERT_TRUE(agent.registered()) << agent.Output();
  testing::CliClient cli(scheduler->address());
  std::string out;
  ASSERT_EQ(
      cli.Run({"backup", "--namespace", "dx-prod", "--release", "dx"}, &out), 0)
      << out << scheduler->Output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) complete")))
      << out;
  const std::string id = m[1];

  // Listed, shown and indexed from PostgreSQL.
  auto sets = cli.Json<v1::ListSetsResponse>({"sets"});
  ASSERT_EQ(sets.sets_size(), 1);
  EXPECT_EQ(sets.sets(0).id(), id);
  auto detail = cli.Json<v1::SetDetail>({"show", id});
  EXPECT_EQ(detail.set().status(), v1::SET_COMPLETE);
  EXPECT_FALSE(detail.jobs().empty());
  ASSERT_EQ(cli.Run({"files", id}, &out), 0) << out;
  EXPECT_NE(out.find("config/file19.xml"), std::string::npos) << out;
  ASSERT_EQ(cli.Run({"find", "wps.properties"}, &out), 0) << out;
  EXPECT_NE(out.find(id), std::string::npos) << out;
  auto counted = [&](const std::string& sql) {
    std::string rows;
    pg_.Run({"psql", "-tA", "-d", "dxcatalog", "-c", sql}, &rows);
    return rows;
  };
  EXPECT_EQ(counted("SELECT count(*) FROM sets"), "1\n");
  EXPECT_EQ(
      counted("SELECT count(*) FROM files WHERE path LIKE 'config/file%'"),
      "20\n");
  EXPECT_FALSE(fs::exists(dir_ / "one/data/catalog.db"))
      << "no SQLite catalog beside it";

  const std::string to = dir_ / "restored";
  ASSERT_EQ(cli.Run({"restore", id, "--to", to}, &out), 0) << out;
  EXPECT_TRUE(testing::CompareTrees(volume_, to + "/core-profile").empty());

  // Another scheduler on the same catalog (and a data directory of its
  // own) sees the set.
  scheduler->Signal(SIGTERM);
  EXPECT_EQ(scheduler->Wait(), 0) << scheduler->Output();
  auto second = StartScheduler("two");
  ASSERT_FALSE(second->address().empty());
  testing::CliClient again(second->address());
  auto listed = again.Json<v1::ListSetsResponse>({"sets"});
  ASSERT_EQ(listed.sets_size(), 1);
  EXPECT_EQ(listed.sets(0).id(), id);
}

TEST_F(PostgresCatalogTest, ACatalogServerThatGoesAwayStopsTheScheduler) {
  auto scheduler = StartScheduler("one");
  ASSERT_FALSE(scheduler->address().empty());
  testing::CliClient cli(scheduler->address());
  std::string out;
  ASSERT_EQ(cli.Run({"sets"}, &out), 0) << out;

  // Without its session it cannot know that it is the only active
  // scheduler: it stops, naming the server, rather than act beside one.
  ASSERT_EQ(pg_.Stop(&out), 0) << out;
  EXPECT_EQ(scheduler->Wait(), 1) << scheduler->Output();
  EXPECT_NE(scheduler->Output().find("lost the active scheduler's lock on "
                                     "the catalog (PostgreSQL dbname="
                                     "dxcatalog"),
            std::string::npos)
      << scheduler->Output();
  // Started again (as Kubernetes does) once the server is back, it serves.
  ASSERT_EQ(pg_.Start(&out), 0) << out;
  auto again = StartScheduler("two");
  ASSERT_FALSE(again->address().empty());
  EXPECT_EQ(testing::CliClient(again->address()).Run({"sets"}, &out), 0) << out;
}

// A catalog the scheduler kept in SQLite goes into PostgreSQL verified
// (each table's rows and digest on both sides), and a scheduler on it
// then restores the set from the same store; a second copy is refused,
// and a row changed since is found.
TEST_F(PostgresCatalogTest, MigrateCatalogCopiesASqliteCatalogVerifiably) {
  const std::string data = dir_ / "shared-data";
  const std::string id = TakeSetOnSqlite(data);
  ASSERT_FALSE(id.empty());
  testing::WriteFile(dir_ / "pg.yaml", config_);
  const std::vector<std::string> migrate = {
      testing::BinDir() + "/dxbackup-scheduler",
      "migrate-catalog",
      "--from-sqlite",
      data + "/catalog.db",
      "--config",
      dir_ / "pg.yaml"};
  std::string out;
  // A mistyped path is not an empty catalog to copy.
  std::vector<std::string> mistyped = migrate;
  mistyped[3] = data + "/catalgo.db";
  EXPECT_EQ(testing::RunCommand(mistyped, &out), 1) << out;
  EXPECT_NE(out.find("cannot open catalog " + data + "/catalgo.db"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(data + "/catalgo.db"));
  ASSERT_EQ(testing::RunCommand(migrate, &out), 0) << out;
  EXPECT_NE(out.find("catalog copied and verified"), std::string::npos) << out;
  EXPECT_TRUE(
      std::regex_search(out, std::regex("\\nsets +1 +1 +[0-9a-f]{64} +yes\\n")))
      << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex("\\nfiles +([1-9][0-9]*) +\\1 +[0-9a-f]{64} +yes\\n")))
      << out;

  EXPECT_EQ(testing::RunCommand(migrate, &out), 1) << out;
  EXPECT_NE(out.find("already holds rows in"), std::string::npos) << out;
  EXPECT_NE(out.find("nothing was copied"), std::string::npos) << out;

  ASSERT_EQ(pg_.Run({"psql", "-d", "dxcatalog", "-c",
                     "UPDATE files SET size = size + 1 WHERE path = "
                     "'wps.properties'"},
                    &out),
            0)
      << out;
  std::vector<std::string> verify = migrate;
  verify.push_back("--verify-only");
  EXPECT_EQ(testing::RunCommand(verify, &out), 1) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\\nfiles .* NO: postgres")))
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\\nsets .* yes\\n"))) << out;
  EXPECT_NE(out.find("the copy DIFFERS"), std::string::npos) << out;
  ASSERT_EQ(pg_.Run({"psql", "-d", "dxcatalog", "-c",
                     "UPDATE files SET size = size - 1 WHERE path = "
                     "'wps.properties'"},
                    &out),
            0)
      << out;
  EXPECT_EQ(testing::RunCommand(verify, &out), 0) << out;

  // A scheduler on the copy restores the set from the same store.
  {
    testing::SchedulerOptions options =
        testing::SchedulerIn(dir_ / "pg", config_);
    options.data_dir = data;
    testing::SchedulerProcess scheduler(options);
    ASSERT_FALSE(scheduler.address().empty()) << scheduler.Output();
    testing::AgentProcess agent(
        testing::AgentOf(scheduler.address(), "dx-prod", "dx", "dx-core-0",
                         "core", {"profile=" + volume_}, dir_ / "agent2.log"));
    ASSERT_TRUE(agent.registered()) << agent.Output();
    testing::CliClient cli(scheduler.address());
    const std::string to = dir_ / "restored-from-copy";
    ASSERT_EQ(cli.Run({"restore", id, "--to", to}, &out), 0) << out;
    EXPECT_TRUE(testing::CompareTrees(volume_, to + "/core-profile").empty());
    // New rows go after the copied ones (the artifacts' ids go on).
    EXPECT_EQ(
        cli.Run({"backup", "--namespace", "dx-prod", "--release", "dx"}, &out),
        0)
        << out;
    EXPECT_EQ(cli.Json<v1::ListSetsResponse>({"sets"}).sets_size(), 2);
    scheduler.Signal(SIGTERM);
    ASSERT_EQ(scheduler.Wait(), 0) << scheduler.Output();
  }
}

// A scheduler pointed at a catalog that is not its store's (here: the
// config moved to PostgreSQL before `migrate-catalog` ran) refuses to
// start rather than remove every stored set as unnamed by the catalog.
TEST_F(PostgresCatalogTest, ACatalogThatIsNotTheStoresIsRefusedNotReconciled) {
  const std::string data = dir_ / "shared-data";
  ASSERT_FALSE(TakeSetOnSqlite(data).empty());
  auto stored = [&] {
    int n = 0;
    for (const auto& e : fs::recursive_directory_iterator(data + "/store")) {
      n += e.is_regular_file();
    }
    return n;
  };
  const int before = stored();
  ASSERT_GT(before, 0);
  testing::SchedulerOptions options =
      testing::SchedulerIn(dir_ / "pg", config_);
  options.data_dir = data;
  options.await_listening = false;
  testing::SchedulerProcess pg(options);
  const std::string refused = pg.WaitForLine("of no set the catalog knows");
  EXPECT_NE(refused, "") << pg.Output();
  if (refused.empty()) pg.Signal(SIGTERM);  // it started: the bug
  EXPECT_NE(pg.Wait(), 0);
  EXPECT_NE(pg.Output().find("migrate-catalog"), std::string::npos)
      << pg.Output();
  EXPECT_EQ(stored(), before) << "nothing was removed";
}

// Two schedulers on one catalog and one address (as a Service gives
// them): one active, one standby. The active one is killed mid-set: the
// standby takes over, the agent comes back to it, the set left running
// is failed with the reason, and the next set runs once.
TEST_F(PostgresCatalogTest, AStandbyTakesOverWhenTheActiveSchedulerIsKilled) {
  const std::string gate = dir_ / "gate";
  config_ +=
      "deployments:\n"
      "  - namespace: dx-prod\n"
      "    release: dx\n"
      "    hooks:\n"
      "      - {name: stop, component: core, phase: pre, shell: true, "
      "command: [\"while [ ! -e " +
      gate +
      " ]; do sleep 0.1; done\"]}\n"
      "      - {name: start, component: core, phase: post, shell: true, "
      "command: [\"echo started >> " +
      dir_ / "post-hook.log" + "\"]}\n";
  const std::string listen =
      "127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort());
  testing::SchedulerOptions a_options =
      testing::SchedulerIn(dir_ / "a", config_);
  a_options.listen = listen;
  a_options.data_dir = dir_ / "shared-data";
  auto a = std::make_unique<testing::SchedulerProcess>(a_options);
  ASSERT_FALSE(a->address().empty()) << a->Output();
  testing::SchedulerOptions b_options =
      testing::SchedulerIn(dir_ / "b", config_);
  b_options.listen = listen;
  b_options.data_dir = dir_ / "shared-data";
  b_options.await_listening = false;
  testing::SchedulerProcess b(b_options);
  ASSERT_NE(b.WaitForLine("standby: another scheduler is active"), "")
      << b.Output();

  testing::AgentProcess agent(
      testing::AgentOf(listen, "dx-prod", "dx", "dx-core-0", "core",
                       {"profile=" + volume_}, dir_ / "agent.log"));
  ASSERT_TRUE(agent.registered()) << agent.Output();
  testing::CliClient cli(listen);
  auto backup =
      cli.Start({"backup", "--namespace", "dx-prod", "--release", "dx"},
                dir_ / "backup.log");
  const std::string started = backup->WaitForLine(" started");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(started, m, std::regex("set (\\S+) started")))
      << backup->Output();
  const std::string id = m[1];
  ASSERT_NE(agent.WaitForLine("running hook stop"), "") << agent.Output();

  a->Signal(SIGKILL);
  a->Wait();
  ASSERT_EQ(b.AwaitListening(), listen) << b.Output();
  EXPECT_NE(b.Output().find("taking over"), std::string::npos) << b.Output();
  // The agent comes back once its hook has ended.
  testing::WriteFile(gate, "");
  ASSERT_TRUE(agent.WaitRegistered(2)) << agent.Output();
  // The killed one's pre-hook stopped DX: the post-hook it owed runs on
  // the one that took over, once the agent is back.
  ASSERT_NE(b.WaitForLine("the post-hooks it owed were run"), "") << b.Output();
  EXPECT_EQ(testing::ReadFile(dir_ / "post-hook.log"), "started\n");
  auto left = cli.Json<v1::SetDetail>({"show", id});
  EXPECT_EQ(left.set().status(), v1::SET_FAILED);
  EXPECT_NE(left.set().reason().find("the scheduler stopped while the set ran"),
            std::string::npos)
      << left.set().reason();
  EXPECT_NE(left.set().reason().find("post-hook/start@dx-core-0 ok"),
            std::string::npos)
      << left.set().reason();

  // The next set runs, once, on the scheduler that took over.
  std::string out;
  ASSERT_EQ(
      cli.Run({"backup", "--namespace", "dx-prod", "--release", "dx"}, &out), 0)
      << out << b.Output();
  auto sets = cli.Json<v1::ListSetsResponse>({"sets"});
  ASSERT_EQ(sets.sets_size(), 2);
  EXPECT_EQ(sets.sets(0).status(), v1::SET_COMPLETE);
  backup->Signal(SIGTERM);
  backup->Wait();
}

// With replicas in Kubernetes, the Service selects the active scheduler's
// pod by the label dxbackup.io/active=true (--label-active-pod), and the
// standbys are Ready ("ready" SERVING) so that rolling updates and
// disruption budgets work. The active one takes the label off the peer
// that had it (here a pod whose scheduler was killed earlier) and puts it
// on its own pod; when it is killed in turn, the one that takes over does
// the same. Pods that are not peers keep their labels. Against a recorded
// API server: no cluster runs here.
TEST_F(PostgresCatalogTest, TheActivePodIsLabelledAndTheLabelFollowsATakeover) {
  std::string out;
  ASSERT_EQ(
      testing::RunCommand(
          {testing::SourceDir() + "/tools/make-test-certs.sh", dir_ / "certs"},
          &out),
      0)
      << out;
  testing::WriteFile(dir_ / "token", "recorded-api-token-9f31\n");
  const std::string recorded = testing::SourceDir() + "/tests/kubernetes";
  testing::ChildProcess api(
      {"/usr/bin/python3", recorded + "/recorded_api_server.py", "--cert",
       dir_ / "certs/server.pem", "--key", dir_ / "certs/server.key", "--token",
       dir_ / "token", "--answers", recorded + "/answers.json", "--requests",
       dir_ / "requests.log", "--pod",
       "backup/dxb-0=app:dxb,dxbackup.io/active:true", "--pod",
       "backup/dxb-1=app:dxb", "--pod",
       "backup/other-0=app:other,dxbackup.io/active:true"},
      dir_ / "api.log");
  std::smatch m;
  const std::string line = api.WaitForLine("listening on port");
  ASSERT_TRUE(std::regex_search(line, m, std::regex("port (\\d+)")))
      << api.Output();
  const std::string server = "https://localhost:" + m[1].str();
  config_ += "kubernetes_api:\n  server: " + server +
             "\n  token_file: " + dir_ / "token" +
             "\n  ca_file: " + dir_ / "certs/ca.pem\n";
  // The pods labelled active now, as the API server lists them.
  auto labelled = [&] {
    std::string listed;
    testing::RunCommand(
        {"curl", "-sS", "--cacert", dir_ / "certs/ca.pem", "-H",
         "Authorization: Bearer recorded-api-token-9f31",
         server + "/api/v1/namespaces/backup/pods?labelSelector="
                  "dxbackup.io%2Factive%3Dtrue"},
        &listed);
    std::vector<std::string> names;
    const std::regex name("\"metadata\":\\{\"name\":\"([a-z0-9-]+)\"");
    for (std::sregex_iterator it(listed.begin(), listed.end(), name), end;
         it != end; ++it) {
      names.push_back((*it)[1]);
    }
    return names;
  };
  auto start = [&](const std::string& pod, bool active) {
    testing::SchedulerOptions options =
        testing::SchedulerIn(dir_ / pod, config_);
    options.data_dir = dir_ / "shared-data";
    options.flags = {"--label-active-pod", "backup/" + pod, "--peer-pods",
                     "app=dxb"};
    options.await_listening = active;
    return std::make_unique<testing::SchedulerProcess>(options);
  };

  auto first = start("dxb-1", true);
  ASSERT_FALSE(first->address().empty()) << first->Output();
  ASSERT_NE(first->WaitForLine("labelled this pod dxbackup.io/active=true"), "")
      << first->Output();
  EXPECT_EQ(labelled(), (std::vector<std::string>{"dxb-1", "other-0"}))
      << "the killed peer's label is gone; another release's stays";
  EXPECT_EQ(testing::HealthStatus(first->address(), "ready"), 1);

  // A standby on its own address (its own pod): Ready, not serving.
  testing::SchedulerOptions standby_options =
      testing::SchedulerIn(dir_ / "dxb-0", config_);
  const std::string standby_address =
      "127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort());
  standby_options.listen = standby_address;
  standby_options.data_dir = dir_ / "shared-data";
  standby_options.flags = {"--label-active-pod", "backup/dxb-0", "--peer-pods",
                           "app=dxb"};
  standby_options.await_listening = false;
  testing::SchedulerProcess second(standby_options);
  ASSERT_NE(second.WaitForLine("standby: answering health checks"), "")
      << second.Output();
  EXPECT_EQ(testing::HealthStatus(standby_address, "ready"), 1)
      << "a standby is Ready";
  EXPECT_EQ(testing::HealthStatus(standby_address), 2) << "and not serving";
  EXPECT_EQ(labelled(), (std::vector<std::string>{"dxb-1", "other-0"}));

  first->Signal(SIGKILL);
  first->Wait();
  ASSERT_EQ(second.AwaitListening(), standby_address) << second.Output();
  ASSERT_NE(second.WaitForLine("labelled this pod dxbackup.io/active=true"), "")
      << second.Output();
  EXPECT_EQ(labelled(), (std::vector<std::string>{"dxb-0", "other-0"}))
      << "the label moved to the pod that took over";

  // Stopping, the active one takes its label off: the Service sends no
  // more calls to a scheduler that is going.
  second.Signal(SIGTERM);
  EXPECT_EQ(second.Wait(), 0);
  EXPECT_EQ(labelled(), (std::vector<std::string>{"other-0"}));
}

}  // namespace
}  // namespace dxbackup
