// End to end: the real dxbackup-scheduler, two real agents (core and DAM)
// and the dxbackup CLI on loopback, a real PostgreSQL on a private socket,
// a DX-shaped tree from tests/fixtures/make-dx-tree and a DAM-shaped
// database from tests/fixtures/dam-db.sql. Stored artifacts are read back
// with GNU tar and pg_restore, and through `dxbackup restore`.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "dxbackup/v1/admin.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_compare.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::CompareTrees;
using testing::RunCommand;
using testing::WriteFile;

const std::string kBin = DXBACKUP_BIN_DIR;
const std::string kSource = DXBACKUP_SOURCE_DIR;
const std::string kFixtures = DXBACKUP_FIXTURES_DIR;

// Adds what the fixture lacks and a restore must keep: empty directories,
// very long names, hard links, foreign owners, odd modes, xattrs.
void AddTrickyEntries(const std::string& root) {
  fs::create_directories(root + "/empty/nested-empty");
  WriteFile(
      root + "/" + std::string(150, 'l') + "/" + std::string(180, 'm') + ".xml",
      "<long/>");
  WriteFile(root + "/hardlinks/original", "shared inode");
  link((root + "/hardlinks/original").c_str(),
       (root + "/hardlinks/second").c_str());
  WriteFile(root + "/owned/by-someone-else", "uid 1234");
  if (geteuid() == 0) {
    chown((root + "/owned/by-someone-else").c_str(), 1234, 2345);
    chown((root + "/owned").c_str(), 1234, 2345);
  }
  WriteFile(root + "/modes/private", "0600");
  chmod((root + "/modes/private").c_str(), 0600);
  WriteFile(root + "/modes/script.sh", "#!/bin/sh\n");
  chmod((root + "/modes/script.sh").c_str(), 0750);
  // A deployment's own set restores with its setuid/setgid bits.
  WriteFile(root + "/modes/setuid-tool", "#!/bin/sh\n");
  chmod((root + "/modes/setuid-tool").c_str(), 06755);
  ASSERT_EQ(setxattr((root + "/modes/private").c_str(), "user.dxbackup", "kept",
                     4, 0),
            0)
      << "the test directory's file system must take user xattrs";
  WriteFile(root + "/names/caf\xe9-latin1.properties", "not UTF-8");
  WriteFile(root + "/names/\xe6\x97\xa5\xe6\x9c\xac.xml", "UTF-8");
  std::string out;
  ASSERT_EQ(
      RunCommand({"setfacl", "-m", "u:1234:r", root + "/modes/private"}, &out),
      0)
      << out;
}

std::vector<std::string> WithoutRestrictLines(const std::string& dump) {
  // pg_dump's \restrict key is random per run; everything else must match.
  std::vector<std::string> lines;
  std::istringstream in(dump);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("\\restrict", 0) == 0 ||
        line.rfind("\\unrestrict", 0) == 0) {
      continue;
    }
    lines.push_back(line);
  }
  return lines;
}

// A stand-in DX server for the hooked profile: a process that rewrites
// state files in several steps each, so a capture while it runs can catch a
// file half written; stopServer.sh stops it after its current round and
// startServer.sh starts it again.
void MakeStandInServer(const std::string& profile) {
  WriteFile(profile + "/bin/server.sh",
            "#!/bin/bash\n"
            "stop=0; trap 'stop=1' TERM\n"
            "n=0\n"
            "while [ $stop = 0 ]; do\n"
            "  n=$((n+1))\n"
            "  for f in 1 2 3 4; do\n"
            "    { for part in 1 2 3 4; do echo $n; sleep 0.01; done; } \\\n"
            "      > \"$(dirname \"$0\")/../state/f$f.txt\"\n"
            "  done\n"
            "done\n");
  WriteFile(profile + "/bin/startServer.sh",
            "#!/bin/bash\n"
            "cd \"$(dirname \"$0\")\"\n"
            "mkdir -p ../state\n"
            "setsid ./server.sh </dev/null >/dev/null 2>&1 &\n"
            "echo $! > ../server.pid\n");
  WriteFile(profile + "/bin/stopServer.sh",
            "#!/bin/bash\n"
            "pid=$(cat \"$(dirname \"$0\")/../server.pid\")\n"
            "kill -TERM \"$pid\" 2>/dev/null || exit 0\n"
            "while kill -0 \"$pid\" 2>/dev/null; do sleep 0.05; done\n");
  for (const char* script : {"server.sh", "startServer.sh", "stopServer.sh"}) {
    chmod((profile + "/bin/" + script).c_str(), 0755);
  }
  WriteFile(profile + "/PortalServer/wps.properties", "fixlevel=CF221\n");
}

bool ServerRunning(const std::string& profile) {
  const std::string pid = testing::ReadFile(profile + "/server.pid");
  return !pid.empty() && kill(std::stoi(pid), 0) == 0;
}

class EndToEndTest : public ::testing::Test {
 protected:
  // A database entry of the test's PostgreSQL, as config YAML.
  static std::string DatabaseConfig(const std::string& dbname) {
    return pg_->DatabaseConfig(dbname);
  }

  static std::string HookConfig() {
    const std::string bin = *work_ / "hooked-profile/bin";
    return "      - {name: stop-portal, component: core, phase: pre, "
           "command: [\"" +
           bin +
           "/stopServer.sh\"], timeout_seconds: 30}\n"
           "      - {name: start-portal, component: core, phase: post, "
           "command: [\"" +
           bin + "/startServer.sh\"], timeout_seconds: 30}\n";
  }

  // The deployment every test shares starts with the first test, not in
  // SetUpTestSuite: gtest reports the tests of a suite whose SetUpTestSuite
  // failed as skipped, which ctest counts as passed.
  void SetUp() override {
    static const bool ready = [] {
      StartSuite();
      return !::testing::Test::HasFailure();
    }();
    ASSERT_TRUE(ready) << "the shared deployment did not start; the first "
                          "test of the suite says why";
  }

  static void StartSuite() {
    work_ = new testing::TempDir;
    chmod(work_->path().c_str(), 0755);  // the postgres user enters it
    pg_dir_ = *work_ / "pg";
    pg_ = new testing::PgTestServer(pg_dir_);
    std::string out;
    ASSERT_EQ(pg_->Start(&out), 0) << out;
    pg_env_ = pg_->Env();
    ASSERT_EQ(Psql({"createdb", "dxmediadb"}, &out), 0) << out;
    ASSERT_EQ(Psql({"psql", "-q", "-v", "rows=3000", "-d", "dxmediadb", "-f",
                    kFixtures + "/dam-db.sql"},
                   &out),
              0)
        << out;

    dx_ = *work_ / "dx";
    ASSERT_EQ(RunCommand({"python3", kFixtures + "/make-dx-tree", dx_,
                          "--profile-mb", "3", "--dam-mb", "3"},
                         &out),
              0)
        << out;
    AddTrickyEntries(dx_ + "/profiles/prof_95_CF221");
    AddTrickyEntries(dx_ + "/dam/upload");

    // A pg_dump that notes how it was called, then runs the real one.
    WriteFile(*work_ / "spy/pg_dump",
              "#!/bin/sh\n"
              "printf '%s\\n' \"$0\" \"$@\" >> \"$(dirname \"$0\")/argv\"\n"
              "[ -n \"$PGPASSWORD$PGPASSFILE\" ] && echo secret-from-env >> "
              "\"$(dirname \"$0\")/argv\"\n"
              "exec \"$(ls -d /usr/lib/postgresql/*/bin/pg_dump | sort -V | "
              "tail -1)\" \"$@\"\n");
    chmod((*work_ / "spy/pg_dump").c_str(), 0755);
    WriteFile(*work_ / "scheduler.yaml",
              "deployments:\n"
              "  - namespace: dx-prod\n"
              "    release: dx\n"
              "    databases:\n" +
                  DatabaseConfig("dxmediadb") +
                  "  - namespace: dx-prod\n"
                  "    release: slow\n"
                  "  - namespace: dx-prod\n"
                  "    release: hooked\n"
                  "    hooks:\n" +
                  HookConfig() +
                  "  - namespace: dx-prod\n"
                  "    release: hooked-bad\n"
                  "    hooks:\n" +
                  HookConfig() + "    databases:\n" +
                  DatabaseConfig("no_such_db") +
                  "  - namespace: dx-prod\n"
                  "    release: spied\n"
                  "    databases:\n" +
                  DatabaseConfig("dxmediadb") +
                  "        pg_dump_path: " + *work_ / "spy/pg_dump" +
                  "\n"
                  "  - namespace: dx-prod\n"
                  "    release: dx-scratch\n"
                  "    databases:\n" +
                  DatabaseConfig("dxmediadb") +
                  "  - namespace: dx-prod\n"
                  "    release: broken-db\n"
                  "    databases:\n" +
                  DatabaseConfig("no_such_db") +
                  "policies:\n"
                  "  - name: copied\n"
                  "    selector: {namespaces: [dx-prod], release: copyrel}\n"
                  "    schedule: \"@yearly\"\n"
                  "    copy_to:\n"
                  "      directory: " +
                  *work_ / "copies" +
                  "\n"
                  "      retention: {keep_last: 2}\n");
    auto* scheduler =
        new testing::SchedulerProcess(testing::SchedulerIn(work_->path()));
    scheduler_ = scheduler;
    address_ = scheduler->address();
    ASSERT_FALSE(address_.empty()) << scheduler_->Output();
    cli_ = new testing::CliClient(address_);

    core_ = StartAgent("dx-core-0", "core", "dx",
                       {"profile=" + dx_ + "/wp_profile"});
    dam_ = StartAgent(
        "dx-dam-0", "dam", "dx",
        {"upload=" + dx_ + "/dam/upload", "config=" + dx_ + "/dam/config"});
    ASSERT_NE(core_, nullptr);
    ASSERT_NE(dam_, nullptr);

    backup_exit_ = Cli({"backup", "--namespace", "dx-prod", "--release", "dx"},
                       &backup_output_);
    v1::ListSetsResponse sets;
    ASSERT_TRUE(cli_->JsonInto({"sets", "--release", "dx"}, &sets));
    ASSERT_EQ(sets.sets_size(), 1) << sets.ShortDebugString();
    set_id_ = sets.sets(0).id();
  }

  static void TearDownTestSuite() {
    for (ChildProcess* p : {core_, dam_, scheduler_}) {
      if (p) p->Signal(SIGTERM);
      delete p;
    }
    core_ = dam_ = scheduler_ = nullptr;
    delete cli_;
    cli_ = nullptr;
    delete pg_;  // stops it
    pg_ = nullptr;
    delete work_;
  }

  static ChildProcess* StartAgent(const std::string& pod,
                                  const std::string& component,
                                  const std::string& release,
                                  const std::vector<std::string>& volumes,
                                  const std::vector<std::string>& extra = {}) {
    testing::AgentOptions options =
        testing::AgentOf(address_, "dx-prod", release, pod, component, volumes,
                         *work_ / (pod + ".log"));
    options.flags = extra;
    auto* agent = new testing::AgentProcess(options);
    if (!agent->registered()) {
      ADD_FAILURE() << pod << " did not register: " << agent->Output();
      delete agent;
      return nullptr;
    }
    return agent;
  }

  static int Psql(std::vector<std::string> argv, std::string* out) {
    return pg_->Run(argv, out);
  }

  static int Cli(std::vector<std::string> args, std::string* out) {
    return cli_->Run(args, out);
  }

  // A drill's output says each volume came back with as many entries as
  // the set's index lists (`suffix` after "in the index").
  static void ExpectEveryVolumeCameBack(const std::string& out,
                                        const std::string& suffix = "") {
    for (const char* target : {"core/profile", "dam/upload", "dam/config"}) {
      EXPECT_TRUE(std::regex_search(
          out,
          std::regex(std::string("ok ") + target +
                     ": (\\d+) entries restored, \\1 in the index" + suffix)))
          << target << "\n"
          << out;
    }
  }

  // How many drill scratch databases (dxdrill_...) the server has, as
  // psql prints it ("0\n"), or psql's error.
  static std::string ScratchDatabasesLeft() {
    std::string out;
    Psql({"psql", "-tA", "-d", "postgres", "-c",
          "SELECT count(*) FROM pg_database WHERE datname LIKE 'dxdrill_%'"},
         &out);
    return out;
  }

  // Takes another complete set of dx-prod/dx, for a test that damages
  // it; its id ("" when it did not complete).
  static std::string TakeSet() {
    std::string out;
    std::smatch m;
    if (Cli({"backup", "--namespace", "dx-prod", "--release", "dx"}, &out) !=
            0 ||
        !std::regex_search(out, m, std::regex("set (\\S+) complete"))) {
      ADD_FAILURE() << out;
      return "";
    }
    return m[1];
  }

  static v1::SetDetail Show(const std::string& set_id) {
    return cli_->Json<v1::SetDetail>({"show", set_id});
  }

  static std::string SourceOf(const std::string& target) {
    if (target == "core/profile") return dx_ + "/profiles/prof_95_CF221";
    if (target == "dam/upload") return dx_ + "/dam/upload";
    if (target == "dam/config") return dx_ + "/dam/config";
    return "";
  }

  static std::string PlainDump(const std::string& db) {
    std::string out;
    EXPECT_EQ(Psql({"pg_dump", "--no-owner", "-d", db}, &out), 0) << out;
    return out;
  }

  static testing::TempDir* work_;
  static std::string pg_dir_, dx_, address_, set_id_, backup_output_;
  static std::vector<std::string> pg_env_;
  static int backup_exit_;
  static ChildProcess *scheduler_, *core_, *dam_;
  static testing::PgTestServer* pg_;
  static testing::CliClient* cli_;
};

testing::TempDir* EndToEndTest::work_ = nullptr;
std::string EndToEndTest::pg_dir_, EndToEndTest::dx_, EndToEndTest::address_,
    EndToEndTest::set_id_, EndToEndTest::backup_output_;
std::vector<std::string> EndToEndTest::pg_env_;
int EndToEndTest::backup_exit_ = -1;
ChildProcess *EndToEndTest::scheduler_ = nullptr,
             *EndToEndTest::core_ = nullptr, *EndToEndTest::dam_ = nullptr;
testing::PgTestServer* EndToEndTest::pg_ = nullptr;
testing::CliClient* EndToEndTest::cli_ = nullptr;

TEST_F(EndToEndTest, SetOfCoreDamAndDatabaseCompletes) {
  EXPECT_EQ(backup_exit_, 0) << backup_output_;
  EXPECT_NE(backup_output_.find("set " + set_id_ + " complete"),
            std::string::npos)
      << backup_output_;
  v1::SetDetail detail = Show(set_id_);
  EXPECT_EQ(detail.set().status(), v1::SET_COMPLETE) << detail.set().reason();
  EXPECT_EQ(detail.set().fix_level(), "CF221");
  std::map<std::string, v1::Artifact> by_target;
  for (const auto& a : detail.artifacts()) by_target[a.target()] = a;
  ASSERT_EQ(by_target.size(), 4u);
  EXPECT_EQ(by_target["core/profile"].fix_level(), "CF221");
  // The wp_profile link is recorded; its target is what was captured.
  EXPECT_EQ(by_target["core/profile"].source(),
            "dx-core-0:" + dx_ + "/wp_profile -> " +
                fs::canonical(dx_ + "/profiles/prof_95_CF221").string());
  EXPECT_EQ(by_target["db/dxmediadb"].kind(), v1::ARTIFACT_PG_DUMP);
  for (const auto& [target, a] : by_target) {
    auto digest = common::Sha256OfFile(*work_ / ("data/store/" + a.path()));
    ASSERT_TRUE(digest.ok()) << target;
    EXPECT_EQ(*digest, a.sha256()) << target;
  }
}

TEST_F(EndToEndTest, GnuTarExtractsEveryVolumeIdenticalToItsSource) {
  v1::SetDetail detail = Show(set_id_);
  int volumes = 0;
  for (const v1::Artifact& a : detail.artifacts()) {
    if (a.kind() != v1::ARTIFACT_VOLUME_TAR) continue;
    ++volumes;
    const std::string out = *work_ / ("gnutar-" + std::to_string(volumes));
    fs::create_directories(out);
    std::string log;
    ASSERT_EQ(
        RunCommand({"tar", "--zstd", "--xattrs", "--xattrs-include=*", "--acls",
                    "-xpf", *work_ / ("data/store/" + a.path()), "-C", out},
                   &log),
        0)
        << log;
    // GNU tar knows every header we write but POSIX's hdrcharset, which
    // marks the raw (non-UTF-8) names; it extracts those names as they are.
    EXPECT_FALSE(std::regex_search(
        log,
        std::regex("Ignoring unknown extended header keyword '(?!hdrcharset)")))
        << log;
    EXPECT_EQ(CompareTrees(SourceOf(a.target()), out),
              std::vector<std::string>{})
        << a.target();
    if (a.target() != "dam/config") {
      char value[16] = {0};
      EXPECT_EQ(getxattr((out + "/modes/private").c_str(), "user.dxbackup",
                         value, sizeof value),
                4)
          << a.target() << ": xattr kept";
      std::string acl;
      RunCommand({"getfacl", "-c", out + "/modes/private"}, &acl);
      EXPECT_NE(acl.find("user:1234:r--"), std::string::npos)
          << a.target() << ": ACL kept: " << acl;
    }
  }
  EXPECT_EQ(volumes, 3);
}

TEST_F(EndToEndTest, PgRestoreOfTheStoredDumpGivesTheSameData) {
  v1::SetDetail detail = Show(set_id_);
  std::string stored;
  for (const auto& a : detail.artifacts()) {
    if (a.kind() != v1::ARTIFACT_PG_DUMP) continue;
    stored = *work_ / ("data/store/" + a.path());
    EXPECT_EQ(a.compression(), v1::COMPRESSION_ZSTD);
  }
  ASSERT_TRUE(absl::EndsWith(stored, ".pgdump.zst")) << stored;
  // The stock zstd, then the stock pg_restore.
  const std::string dump = *work_ / "by-zstd.pgdump";
  std::string out;
  ASSERT_EQ(RunCommand({"zstd", "-q", "-d", stored, "-o", dump}, &out), 0)
      << out;
  ASSERT_EQ(Psql({"createdb", "by_pg_restore"}, &out), 0) << out;
  ASSERT_EQ(Psql({"pg_restore", "--exit-on-error", "-d", "by_pg_restore", dump},
                 &out),
            0)
      << out;
  EXPECT_TRUE(WithoutRestrictLines(PlainDump("by_pg_restore")) ==
              WithoutRestrictLines(PlainDump("dxmediadb")));
}

TEST_F(EndToEndTest, DxbackupRestoreGivesTheSameTreesAndData) {
  std::string out;
  const std::string to = *work_ / "restored";
  // Volumes elsewhere but the database over production is refused.
  EXPECT_EQ(Cli({"restore", set_id_, "--to", to}, &out), 1) << out;
  EXPECT_NE(out.find("add --database-to NAME"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(to)) << "nothing restored";
  ASSERT_EQ(
      Cli({"restore", set_id_, "--to", to, "--database-to", "by_dxbackup"},
          &out),
      0)
      << out;
  for (const std::string target :
       {"core/profile", "dam/upload", "dam/config"}) {
    std::string dir = target;
    dir[dir.find('/')] = '-';
    EXPECT_EQ(CompareTrees(SourceOf(target), to + "/" + dir),
              std::vector<std::string>{})
        << target;
  }
  EXPECT_TRUE(WithoutRestrictLines(PlainDump("by_dxbackup")) ==
              WithoutRestrictLines(PlainDump("dxmediadb")));
}

TEST_F(EndToEndTest, RestoreInPlaceOverTheOriginalDatabase) {
  // The DX procedure: connection limit 0, terminate, drop, create, restore.
  std::string out, before = PlainDump("dxmediadb");
  ASSERT_EQ(Psql({"psql", "-d", "dxmediadb", "-c",
                  "UPDATE schema_1_1_0.dbstatus SET status = 'BROKEN'"},
                 &out),
            0)
      << out;
  ASSERT_FALSE(WithoutRestrictLines(PlainDump("dxmediadb")) ==
               WithoutRestrictLines(before));
  ASSERT_EQ(Cli({"restore", set_id_, "--target", "db/dxmediadb"}, &out), 0)
      << out;
  EXPECT_TRUE(WithoutRestrictLines(PlainDump("dxmediadb")) ==
              WithoutRestrictLines(before));
  ASSERT_EQ(Psql({"psql", "-At", "-d", "postgres", "-c",
                  "SELECT datconnlimit FROM pg_database WHERE datname = "
                  "'dxmediadb'"},
                 &out),
            0);
  EXPECT_EQ(out, "-1\n") << "connection limit put back";
}

TEST_F(EndToEndTest, AgentKilledMidUploadFailsTheSetAndStoresNothing) {
  const std::string bulk = *work_ / "bulk";
  std::mt19937_64 rng(7);
  std::string data(24 << 20, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  WriteFile(bulk + "/media.bin", data);
  ChildProcess* slow = StartAgent("dx-slow-0", "dam", "slow", {"bulk=" + bulk},
                                  {"--limit-upload-kib", "256"});
  ASSERT_NE(slow, nullptr);
  std::unique_ptr<ChildProcess> backup_process =
      cli_->Start({"backup", "--namespace", "dx-prod", "--release", "slow",
                   "--compression", "none"},
                  *work_ / "slow-backup.log");
  ChildProcess& backup = *backup_process;
  ASSERT_FALSE(backup.WaitForLine("dam/bulk: running 1.0 MiB").empty())
      << backup.Output();
  slow->Signal(SIGKILL);
  slow->Wait();
  delete slow;
  EXPECT_EQ(backup.Wait(), 1) << backup.Output();

  v1::ListSetsResponse sets;
  ASSERT_TRUE(cli_->JsonInto({"sets", "--release", "slow"}, &sets));
  ASSERT_EQ(sets.sets_size(), 1);
  v1::SetDetail detail = Show(sets.sets(0).id());
  EXPECT_EQ(detail.set().status(), v1::SET_FAILED);
  EXPECT_NE(detail.set().reason().find("dam/bulk"), std::string::npos)
      << detail.set().reason();
  EXPECT_TRUE(std::regex_search(detail.set().reason(),
                                std::regex("disconnected|without its trailer")))
      << detail.set().reason();
  EXPECT_EQ(detail.artifacts_size(), 0);
  std::string files;
  ASSERT_EQ(Cli({"--json", "files", detail.set().id()}, &files), 0) << files;
  EXPECT_EQ(files, "") << "no index rows for what was not stored";
  const std::string set_dir =
      *work_ / ("data/store/dx-prod/slow/" + detail.set().id());
  if (fs::exists(set_dir)) {
    EXPECT_TRUE(fs::is_empty(set_dir)) << "no partial file left behind";
  }
  // What was safe before is still whole.
  const v1::SetDetail earlier = Show(set_id_);
  ASSERT_EQ(earlier.artifacts_size(), 4);
  for (const auto& a : earlier.artifacts()) {
    auto digest = common::Sha256OfFile(*work_ / ("data/store/" + a.path()));
    ASSERT_TRUE(digest.ok());
    EXPECT_EQ(*digest, a.sha256());
  }
}

TEST_F(EndToEndTest, MalformedConfigIsAnErrorNamingFileAndLine) {
  const std::string bad = *work_ / "bad.yaml";
  WriteFile(bad, "deployments:\n  - namespace: dx-prod\n    relase: dx\n");
  std::string out;
  EXPECT_EQ(RunCommand({kBin + "/dxbackup-scheduler", "--insecure-loopback",
                        "--data-dir", *work_ / "bad-data", "--config", bad},
                       &out),
            2);
  EXPECT_NE(out.find(bad + ":3:"), std::string::npos) << out;
  EXPECT_NE(out.find("relase"), std::string::npos) << out;
}

TEST_F(EndToEndTest, SchedulerRestartCleansUpAndAgentsReconnect) {
  // A crash leaves a partial upload behind; the next start removes it, the
  // agents come back by themselves and the next set completes.
  const std::string partial =
      *work_ / "data/store/dx-prod/dx/crashed/core-profile.tar.zst.partial";
  WriteFile(partial, "half an upload");
  scheduler_->Signal(SIGKILL);
  scheduler_->Wait();
  delete scheduler_;
  testing::SchedulerOptions restarted = testing::SchedulerIn(work_->path());
  restarted.listen = address_;
  restarted.log = *work_ / "scheduler-2.log";
  auto* again = new testing::SchedulerProcess(restarted);
  scheduler_ = again;
  ASSERT_FALSE(again->address().empty()) << scheduler_->Output();
  EXPECT_FALSE(fs::exists(partial));
  ASSERT_FALSE(
      core_->WaitForNthLine("registered with the scheduler", 2).empty())
      << core_->Output();
  ASSERT_FALSE(dam_->WaitForNthLine("registered with the scheduler", 2).empty())
      << dam_->Output();
  std::string out;
  EXPECT_EQ(Cli({"backup", "--namespace", "dx-prod", "--release", "dx"}, &out),
            0)
      << out;
  EXPECT_EQ(Show(set_id_).set().status(), v1::SET_COMPLETE)
      << "the earlier set is untouched";
}

TEST_F(EndToEndTest, ReplicasOfOneComponentAreSeparateTargets) {
  const std::string a = *work_ / "replica-0", b = *work_ / "replica-1";
  WriteFile(a + "/PortalServer/wps.properties", "fixlevel=CF221\n");
  WriteFile(b + "/PortalServer/wps.properties", "fixlevel=CF221\n");
  WriteFile(b + "/only-on-1", "1");
  std::unique_ptr<ChildProcess> core0(
      StartAgent("ha-core-0", "core", "ha", {"profile=" + a}));
  std::unique_ptr<ChildProcess> core1(
      StartAgent("ha-core-1", "core", "ha", {"profile=" + b}));
  ASSERT_TRUE(core0 && core1);
  std::string out;
  ASSERT_EQ(Cli({"backup", "--namespace", "dx-prod", "--release", "ha"}, &out),
            0)
      << out;
  v1::ListSetsResponse sets;
  ASSERT_TRUE(cli_->JsonInto({"sets", "--release", "ha"}, &sets));
  v1::SetDetail detail = Show(sets.sets(0).id());
  std::set<std::string> targets;
  for (const auto& artifact : detail.artifacts()) {
    targets.insert(artifact.target());
  }
  EXPECT_EQ(targets,
            (std::set<std::string>{"ha-core-0/profile", "ha-core-1/profile"}));
  const std::string to = *work_ / "ha-restored";
  ASSERT_EQ(Cli({"restore", detail.set().id(), "--to", to}, &out), 0) << out;
  EXPECT_EQ(CompareTrees(a, to + "/ha-core-0-profile"),
            std::vector<std::string>{});
  EXPECT_EQ(CompareTrees(b, to + "/ha-core-1-profile"),
            std::vector<std::string>{});
}

// The profile's logs/ is a link to another volume: the profile records the
// link only, and the logs volume is captured when it is asked for as a
// volume of its own.
TEST_F(EndToEndTest, LinkedLogsVolumeIsCapturedOnlyWhenAskedFor) {
  std::unique_ptr<ChildProcess> agent(StartAgent(
      "linked-core-0", "core", "linked",
      {"profile=" + dx_ + "/wp_profile", "logs=" + dx_ + "/wp_profile/logs"}));
  ASSERT_TRUE(agent);
  std::string out;
  ASSERT_EQ(
      Cli({"backup", "--namespace", "dx-prod", "--release", "linked"}, &out), 0)
      << out;
  v1::ListSetsResponse sets;
  ASSERT_TRUE(cli_->JsonInto({"sets", "--release", "linked"}, &sets));
  ASSERT_EQ(sets.sets_size(), 1) << sets.ShortDebugString();
  v1::SetDetail detail = Show(sets.sets(0).id());
  std::map<std::string, v1::Artifact> by_target;
  for (const auto& a : detail.artifacts()) by_target[a.target()] = a;
  ASSERT_EQ(by_target.size(), 2u) << sets.ShortDebugString();
  EXPECT_EQ(by_target["core/logs"].source(),
            "linked-core-0:" + dx_ + "/wp_profile/logs -> " +
                fs::canonical(dx_ + "/logs").string());

  std::string listing;
  ASSERT_EQ(
      RunCommand({"tar", "--zstd", "-tvf",
                  *work_ / ("data/store/" + by_target["core/profile"].path())},
                 &listing),
      0);
  EXPECT_TRUE(std::regex_search(
      listing,
      std::regex("(^|\\n)l\\S+ .* (\\./)?logs -> \\.\\./\\.\\./logs\\n")))
      << "the profile holds the link itself";
  EXPECT_EQ(listing.find(".log\n"), std::string::npos)
      << "and none of the log files";

  const std::string logs = *work_ / "linked-logs";
  fs::create_directories(logs);
  ASSERT_EQ(
      RunCommand({"tar", "--zstd", "-xpf",
                  *work_ / ("data/store/" + by_target["core/logs"].path()),
                  "-C", logs},
                 &out),
      0)
      << out;
  EXPECT_EQ(CompareTrees(dx_ + "/logs", logs), std::vector<std::string>{});
}

TEST_F(EndToEndTest, DatabaseThatCannotBeDumpedFailsTheSetWithItsReason) {
  std::string out;
  EXPECT_EQ(
      Cli({"backup", "--namespace", "dx-prod", "--release", "broken-db"}, &out),
      1)
      << out;
  v1::ListSetsResponse sets;
  ASSERT_TRUE(cli_->JsonInto({"sets", "--release", "broken-db"}, &sets));
  ASSERT_EQ(sets.sets_size(), 1);
  const v1::BackupSet& set = sets.sets(0);
  EXPECT_EQ(set.status(), v1::SET_FAILED);
  EXPECT_NE(set.reason().find("db/no_such_db"), std::string::npos)
      << set.reason();
  EXPECT_NE(set.reason().find("database \"no_such_db\" does not exist"),
            std::string::npos)
      << set.reason();
  EXPECT_EQ(set.reason().find(testing::ReadFile(pg_dir_ + "/password")),
            std::string::npos)
      << "no password in errors";
  EXPECT_EQ(Show(set.id()).artifacts_size(), 0);
}

// Secrets reach processes through files or the environment only: never
// argv, logs, error messages or the catalog.
TEST_F(EndToEndTest, TheDatabasePasswordStaysOutOfArgvLogsAndTheCatalog) {
  const std::string password = testing::ReadFile(pg_dir_ + "/password");
  ASSERT_GE(password.size(), 8u);
  std::string out;
  ASSERT_EQ(
      Cli({"backup", "--namespace", "dx-prod", "--release", "spied"}, &out), 0)
      << out;
  const std::string argv = testing::ReadFile(*work_ / "spy/argv");
  EXPECT_NE(argv.find("--format=custom"), std::string::npos) << argv;
  EXPECT_NE(argv.find("secret-from-env"), std::string::npos)
      << "the password came through the environment: " << argv;
  EXPECT_EQ(argv.find(password), std::string::npos) << argv;
  // Logs (the scheduler's and every agent's), the catalog and its WAL.
  for (const auto& entry : fs::directory_iterator(work_->path())) {
    if (entry.path().extension() != ".log") continue;
    EXPECT_EQ(testing::ReadFile(entry.path()).find(password), std::string::npos)
        << entry.path();
  }
  for (const char* file : {"data/catalog.db", "data/catalog.db-wal"}) {
    if (!fs::exists(*work_ / file)) continue;
    EXPECT_EQ(testing::ReadFile(*work_ / file).find(password),
              std::string::npos)
        << file;
  }
  // And no running process has it on its command line.
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string cmdline = entry.path() / "cmdline";
    if (!std::isdigit(entry.path().filename().string()[0]) ||
        !fs::exists(cmdline)) {
      continue;
    }
    std::ifstream in(cmdline, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text.find(password), std::string::npos) << cmdline;
  }
}

TEST_F(EndToEndTest, RestoreInPlaceOverTheOriginalVolume) {
  const std::string config = dx_ + "/dam/config";
  const std::string before = testing::ReadFile(config + "/dam.json");
  WriteFile(config + "/dam.json", "damaged");
  std::string out;
  ASSERT_EQ(Cli({"restore", set_id_, "--target", "dam/config"}, &out), 0)
      << out;
  EXPECT_EQ(testing::ReadFile(config + "/dam.json"), before);
}

TEST_F(EndToEndTest, FileIndexListsAndFindsWhatTheSetHolds) {
  v1::SetDetail detail = Show(set_id_);
  for (const auto& a : detail.artifacts()) {
    if (a.kind() != v1::ARTIFACT_VOLUME_TAR) continue;
    std::string out;
    ASSERT_EQ(Cli({"--json", "files", set_id_, "--target", a.target()}, &out),
              0)
        << out;
    const size_t lines = std::count(out.begin(), out.end(), '\n');
    EXPECT_EQ(lines, a.file_count()) << a.target() << ": one row per entry";
  }
  std::string out;
  ASSERT_EQ(Cli({"files", set_id_, "--target", "core/profile", "--path",
                 "PortalServer"},
                &out),
            0);
  EXPECT_NE(out.find("PortalServer/wps.properties"), std::string::npos) << out;
  EXPECT_EQ(out.find("config/cells"), std::string::npos) << out;

  v1::FindFilesResponse found;
  ASSERT_TRUE(
      cli_->JsonInto({"find", "wps.properties", "--release", "dx"}, &found));
  ASSERT_GE(found.files_size(), 1);
  bool in_first_set = false;
  for (const auto& f : found.files()) {
    EXPECT_EQ(f.entry().path(), "PortalServer/wps.properties");
    EXPECT_EQ(f.entry().size(), fs::file_size(dx_ + "/profiles/prof_95_CF221/" +
                                              f.entry().path()));
    in_first_set = in_first_set || f.set_id() == set_id_;
  }
  EXPECT_TRUE(in_first_set);
}

TEST_F(EndToEndTest, VerifyCatchesAFlippedByteInEachKindOfArtifact) {
  // A set of its own: this test damages it.
  std::string out;
  const std::string id = TakeSet();
  ASSERT_FALSE(id.empty());
  ASSERT_NE(id, set_id_);
  EXPECT_EQ(Cli({"verify", id, "--deep"}, &out), 0) << out;
  EXPECT_EQ(Show(id).set().verification().result(), v1::Verification::VERIFIED);

  const v1::SetDetail taken = Show(id);
  ASSERT_EQ(taken.artifacts_size(), 4);
  for (const v1::Artifact& a : taken.artifacts()) {
    const std::string path = *work_ / ("data/store/" + a.path());
    std::string bytes = testing::ReadFile(path);
    const size_t at = bytes.size() / 2;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x20);
    WriteFile(path, bytes);
    // A restore finds it before it writes anything: elsewhere, and (for
    // one volume) in place, over the live volume.
    if (a.target() == "dam/config") {
      const std::string live = dx_ + "/dam/config/dam.json";
      WriteFile(live, "changed since the set");
      EXPECT_EQ(Cli({"restore", id, "--target", "dam/config"}, &out), 1);
      EXPECT_NE(out.find("stored artifact dam/config"), std::string::npos)
          << out;
      EXPECT_NE(out.find("nothing was restored"), std::string::npos) << out;
      EXPECT_EQ(testing::ReadFile(live), "changed since the set")
          << "the live volume was written";
      // Back as the suite's own set has it.
      ASSERT_EQ(Cli({"restore", set_id_, "--target", "dam/config"}, &out), 0)
          << out;
    } else {
      const std::string never = *work_ / ("never-" + std::to_string(at));
      EXPECT_EQ(
          Cli({"restore", id, "--to", never, "--database-to", "never"}, &out),
          1);
      EXPECT_NE(out.find("stored artifact " + a.target()), std::string::npos)
          << out;
      EXPECT_NE(out.find("nothing was restored"), std::string::npos) << out;
      EXPECT_FALSE(fs::exists(never)) << a.target();
    }
    EXPECT_EQ(Show(id).set().verification().result(),
              v1::Verification::CORRUPT);
    EXPECT_EQ(Cli({"verify", id, "--deep"}, &out), 1) << a.target() << out;
    EXPECT_NE(out.find(a.target()), std::string::npos) << out;
    EXPECT_NE(out.find("CORRUPT"), std::string::npos) << out;
    v1::SetDetail detail = Show(id);
    EXPECT_EQ(detail.set().verification().result(), v1::Verification::CORRUPT);
    EXPECT_NE(detail.set().verification().detail().find(a.target()),
              std::string::npos);
    EXPECT_EQ(Cli({"restore", id, "--to", *work_ / "never"}, &out), 1);
    EXPECT_NE(out.find("failed verification"), std::string::npos) << out;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x20);
    WriteFile(path, bytes);
    EXPECT_EQ(Cli({"verify", id}, &out), 0) << "mended: " << out;
  }
}

// A drill restores the suite's set elsewhere — the volumes under a
// directory on the agents, the database into a scratch one — checks each
// member, records the result and removes what it restored.
TEST_F(EndToEndTest, ADrillRestoresElsewhereChecksRecordsAndCleansUp) {
  const std::string to = *work_ / "drills";
  std::string out;
  ASSERT_EQ(Cli({"drill", set_id_, "--to", to}, &out), 0) << out;
  ExpectEveryVolumeCameBack(out);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      out, m,
      std::regex("ok db/dxmediadb: (\\d+) tables, (\\d+) rows in "
                 "dxdrill_\\w+_1")))
      << out;
  EXPECT_GT(std::stoi(m[1]), 0);
  EXPECT_GE(std::stoi(m[2]), 3000);  // the fixture's rows, at least
  EXPECT_NE(out.find("drill of set " + set_id_ + " passed"), std::string::npos)
      << out;

  const v1::BackupSet drilled = Show(set_id_).set();
  EXPECT_EQ(drilled.drill().result(), v1::Drill::PASSED);
  EXPECT_GT(drilled.drill().drilled_unix(), 0);
  EXPECT_GE(drilled.drill().rto_seconds(), 0);
  EXPECT_EQ(drilled.status(), v1::SET_COMPLETE);
  // Nothing left: no restored tree on the agents, no scratch database.
  EXPECT_TRUE(fs::is_empty(to)) << "left under " << to;
  EXPECT_EQ(ScratchDatabasesLeft(), "0\n");
  ASSERT_EQ(Cli({"show", set_id_}, &out), 0);
  EXPECT_NE(out.find("drilled:    passed"), std::string::npos) << out;
}

// A drill elsewhere than the set's own agents: all volumes on one named
// agent (which has none of them), or a scratch deployment's agents and
// database server. Each passes, and only the destination restored.
TEST_F(EndToEndTest, ADrillGoesToANamedAgentOrAScratchDeployment) {
  const std::string scratch = *work_ / "scratch-volumes";
  for (const char* dir : {"other", "profile", "upload", "config"}) {
    fs::create_directories(scratch + "/" + dir);
  }
  std::unique_ptr<ChildProcess> named(
      StartAgent("drill-0", "core", "drills", {"other=" + scratch + "/other"}));
  ASSERT_NE(named, nullptr);
  const std::string to = *work_ / "drills-named";
  std::string out;
  ASSERT_EQ(
      Cli({"drill", set_id_, "--to", to, "--agent", "dx-prod/drills/drill-0"},
          &out),
      0)
      << out << named->Output();
  ExpectEveryVolumeCameBack(out);
  for (const char* volume : {"profile", "upload", "config"}) {
    EXPECT_NE(named->Output().find(std::string(": restoring ") + volume +
                                   " into " + to + "/drill-"),
              std::string::npos)
        << volume << "\n"
        << named->Output();
  }
  EXPECT_TRUE(fs::is_empty(to)) << "left under " << to;
  EXPECT_EQ(
      Cli({"drill", set_id_, "--to", to, "--agent", "dx-prod/drills/gone-0"},
          &out),
      1);
  EXPECT_NE(out.find("agent dx-prod/drills/gone-0 is not connected"),
            std::string::npos)
      << out;
  EXPECT_EQ(Cli({"drill", set_id_, "--agent", "../drill-0"}, &out), 1);
  EXPECT_NE(out.find("--agent \"../drill-0\" is not allowed"),
            std::string::npos)
      << out;

  // A scratch deployment: its agents have the volumes; the config gives
  // its database server.
  std::unique_ptr<ChildProcess> core(StartAgent(
      "scr-core-0", "core", "dx-scratch", {"profile=" + scratch + "/profile"}));
  std::unique_ptr<ChildProcess> dam(StartAgent(
      "scr-dam-0", "dam", "dx-scratch",
      {"upload=" + scratch + "/upload", "config=" + scratch + "/config"}));
  ASSERT_NE(core, nullptr);
  ASSERT_NE(dam, nullptr);
  const std::string to_scratch = *work_ / "drills-scratch";
  ASSERT_EQ(Cli({"drill", set_id_, "--to", to_scratch, "--to-namespace",
                 "dx-prod", "--to-release", "dx-scratch"},
                &out),
            0)
      << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex("ok db/dxmediadb: (\\d+) tables, (\\d+) rows in "
                      "dxdrill_\\w+_1")))
      << out;
  EXPECT_NE(core->Output().find(": restoring profile into " + to_scratch),
            std::string::npos)
      << core->Output();
  EXPECT_NE(dam->Output().find(": restoring upload into " + to_scratch),
            std::string::npos)
      << dam->Output();
  EXPECT_TRUE(fs::is_empty(to_scratch)) << "left under " << to_scratch;
  EXPECT_EQ(ScratchDatabasesLeft(), "0\n");
  EXPECT_EQ(Cli({"drill", set_id_, "--to-namespace", "dx-prod"}, &out), 1);
  EXPECT_NE(out.find("needs both --to-namespace and --to-release"),
            std::string::npos)
      << out;
  for (ChildProcess* p : {named.get(), core.get(), dam.get()}) {
    p->Signal(SIGTERM);
  }
}

// An incremental set's drill compares what its chain restored with the
// set's index, which lists the whole moment: one file more, one less.
TEST_F(EndToEndTest, ADrillOfAnIncrementalComparesTheWholeMoment) {
  const std::string added = dx_ + "/dam/upload/drilled-incremental.bin";
  const std::string removed = dx_ + "/dam/config/drill-gone.json";
  WriteFile(removed, "{}");
  std::string out;
  ASSERT_EQ(Cli({"backup", "--namespace", "dx-prod", "--release", "dx"}, &out),
            0)
      << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) complete")))
      << out;
  const std::string base = m[1];
  WriteFile(added, "new since the base");
  fs::remove(removed);
  ASSERT_EQ(Cli({"backup", "--namespace", "dx-prod", "--release", "dx",
                 "--incremental"},
                &out),
            0)
      << out;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) complete")))
      << out;
  const std::string incremental = m[1];
  ASSERT_EQ(Cli({"drill", incremental, "--to", *work_ / "drills-incr"}, &out),
            0)
      << out;
  ExpectEveryVolumeCameBack(out, " \\(an incremental chain\\)");
  // Gone again, so that the suite's other tests see what they expect.
  fs::remove(added);
  EXPECT_EQ(Cli({"delete", incremental}, &out), 0) << out;
  EXPECT_EQ(Cli({"delete", base}, &out), 0) << out;
}

// A set no restore takes is refused, not drilled: nothing is recorded, and
// nobody is told a drill failed.
TEST_F(EndToEndTest, ADrillOfASetThatIsNotCompleteIsRefused) {
  std::string out;
  EXPECT_EQ(
      Cli({"backup", "--namespace", "dx-prod", "--release", "broken-db"}, &out),
      1)
      << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) started")))
      << out;
  const std::string id = m[1];
  EXPECT_NE(Cli({"drill", id}, &out), 0);
  EXPECT_NE(out.find("not complete: only a complete set is drilled"),
            std::string::npos)
      << out;
  EXPECT_FALSE(Show(id).set().has_drill());
}

// A drill of a set whose stored artifact was damaged after capture fails,
// says which, is recorded and is told (drill_failed).
TEST_F(EndToEndTest, ADrillOfADamagedSetFailsAndIsTold) {
  std::string out;
  const std::string id = TakeSet();
  ASSERT_FALSE(id.empty());
  const v1::SetDetail taken = Show(id);
  for (const v1::Artifact& a : taken.artifacts()) {
    if (a.target() != "core/profile") continue;
    const std::string path = *work_ / ("data/store/" + a.path());
    std::string bytes = testing::ReadFile(path);
    bytes[bytes.size() / 2] ^= 0x20;
    WriteFile(path, bytes);
  }
  EXPECT_EQ(Cli({"drill", id, "--to", *work_ / "drills-damaged"}, &out), 1)
      << out;
  EXPECT_NE(out.find("FAILED core/profile: "), std::string::npos) << out;
  EXPECT_NE(out.find("drill of set " + id + " FAILED"), std::string::npos)
      << out;
  const v1::BackupSet drilled = Show(id).set();
  EXPECT_EQ(drilled.drill().result(), v1::Drill::FAILED);
  EXPECT_NE(drilled.drill().detail().find("core/profile"), std::string::npos);
  // What the other members' restores wrote is gone too.
  const std::string left = *work_ / "drills-damaged";
  EXPECT_TRUE(!fs::exists(left) || fs::is_empty(left)) << "left under " << left;
  EXPECT_EQ(ScratchDatabasesLeft(), "0\n");
  EXPECT_NE(scheduler_->WaitForLine("notice drill_failed: the restore drill "
                                    "of backup set " +
                                    id),
            "")
      << scheduler_->Output();
  // Gone again, so that the suite's other tests see the set they expect.
  EXPECT_EQ(Cli({"delete", id}, &out), 0) << out;
}

TEST_F(EndToEndTest, ExportRestoresWithOnlyGnuTarAndPgRestore) {
  const std::string to = *work_ / "exports";
  fs::create_directories(to);
  std::string out;
  ASSERT_EQ(Cli({"export", set_id_, "--to", to}, &out), 0) << out;
  const std::string dir = to + "/" + set_id_;
  ASSERT_TRUE(fs::exists(dir + "/manifest.json")) << out;
  v1::ExportManifest manifest;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  testing::ReadFile(dir + "/manifest.json"), &manifest)
                  .ok());
  EXPECT_EQ(manifest.set().fix_level(), "CF221");
  EXPECT_EQ(manifest.artifacts_size(), 4);
  EXPECT_EQ(Cli({"export", set_id_, "--to", to}, &out), 1)
      << "an export is never overwritten";

  // Run RESTORE.txt's commands (its indented lines) as written.
  std::string script = "set -e\ncd '" + dir + "'\n";
  std::istringstream text(testing::ReadFile(dir + "/RESTORE.txt"));
  std::string line;
  while (std::getline(text, line)) {
    if (line.rfind("    ", 0) == 0) script += line.substr(4) + "\n";
  }
  const std::string root = *work_ / "from-export";
  std::vector<std::string> env = pg_env_;
  env.push_back("RESTORE_ROOT=" + root);
  env.push_back("DB_dxmediadb=from_export");
  ASSERT_EQ(RunCommand({"bash", "-c", script}, &out, env), 0) << script << "\n"
                                                              << out;
  EXPECT_NE(out.find("OK"), std::string::npos) << "sha256sum -c ran: " << out;
  EXPECT_EQ(CompareTrees(SourceOf("core/profile"), root + "/core-profile"),
            std::vector<std::string>{});
  EXPECT_EQ(CompareTrees(SourceOf("dam/upload"), root + "/dam-upload"),
            std::vector<std::string>{});
  EXPECT_TRUE(WithoutRestrictLines(PlainDump("from_export")) ==
              WithoutRestrictLines(PlainDump("dxmediadb")));
}

TEST_F(EndToEndTest, ReplaceRestoreLeavesExactlyTheBackedUpTree) {
  // What the set holds, as GNU tar sees it.
  v1::SetDetail detail = Show(set_id_);
  std::string profile_artifact;
  for (const auto& a : detail.artifacts()) {
    if (a.target() == "core/profile") profile_artifact = a.path();
  }
  const std::string expected = *work_ / "replace-expected";
  fs::create_directories(expected);
  std::string out;
  ASSERT_EQ(
      RunCommand(
          {"tar", "--zstd", "--xattrs", "--xattrs-include=*", "--acls", "-xpf",
           *work_ / ("data/store/" + profile_artifact), "-C", expected},
          &out),
      0)
      << out;
  // The live profile drifts: a file added, one removed, one changed.
  const std::string live = SourceOf("core/profile");
  WriteFile(live + "/config/added-since.xml", "new");
  fs::create_directories(live + "/new-dir/deeper");
  fs::remove(live + "/PortalServer/wps.properties");
  chmod((live + "/modes/script.sh").c_str(), 0700);
  WriteFile(live + "/modes/private", "changed");
  ASSERT_EQ(
      Cli({"restore", set_id_, "--target", "core/profile", "--mode", "replace"},
          &out),
      0)
      << out;
  EXPECT_EQ(CompareTrees(expected, live), std::vector<std::string>{});
  EXPECT_TRUE(fs::exists(dx_ + "/logs")) << "nothing outside the volume";
}

TEST_F(EndToEndTest, PathRestoreBringsBackOnlyThosePaths) {
  const std::string to = *work_ / "paths";
  std::string out;
  ASSERT_EQ(Cli({"restore", set_id_, "--target", "core/profile", "--to", to,
                 "--path", "PortalServer", "--path", "modes/private"},
                &out),
            0)
      << out;
  const std::string root = to + "/core-profile";
  EXPECT_TRUE(fs::exists(root + "/PortalServer/wps.properties"));
  EXPECT_TRUE(fs::exists(root + "/modes/private"));
  EXPECT_FALSE(fs::exists(root + "/modes/script.sh"));
  EXPECT_FALSE(fs::exists(root + "/config"));
  EXPECT_EQ(testing::ReadFile(root + "/PortalServer/wps.properties"),
            testing::ReadFile(SourceOf("core/profile") +
                              "/PortalServer/wps.properties"));
}

TEST_F(EndToEndTest, FixLevelGuardAndClones) {
  // A core agent of another release whose profile is at CF221 ...
  const std::string volume = *work_ / "fx-profile";
  WriteFile(volume + "/PortalServer/wps.properties", "fixlevel=CF221\n");
  WriteFile(volume + "/config/a.xml", "<a/>");
  std::unique_ptr<ChildProcess> agent(
      StartAgent("fx-core-0", "core", "fx", {"profile=" + volume}));
  ASSERT_TRUE(agent);
  std::string out;
  ASSERT_EQ(Cli({"backup", "--namespace", "dx-prod", "--release", "fx"}, &out),
            0)
      << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) complete")));
  const std::string fx_set = m[1];
  // ... is updated to CF230; the agent reports it when it comes back.
  agent.reset();
  WriteFile(volume + "/PortalServer/wps.properties", "fixlevel=CF230\n");
  agent.reset(StartAgent("fx-core-0", "core", "fx", {"profile=" + volume}));
  ASSERT_TRUE(agent);
  EXPECT_EQ(Cli({"restore", fx_set}, &out), 1) << out;
  EXPECT_NE(out.find("fix level CF221 but the volume is at CF230"),
            std::string::npos)
      << out;
  EXPECT_EQ(testing::ReadFile(volume + "/PortalServer/wps.properties"),
            "fixlevel=CF230\n")
      << "nothing was restored";
  ASSERT_EQ(Cli({"restore", fx_set, "--force-fixlevel"}, &out), 0) << out;
  EXPECT_EQ(testing::ReadFile(volume + "/PortalServer/wps.properties"),
            "fixlevel=CF221\n");

  // The main deployment's profile into release fx: a clone, only if asked.
  EXPECT_EQ(Cli({"restore", set_id_, "--target", "core/profile", "--to-release",
                 "fx", "--to", *work_ / "clone"},
                &out),
            1);
  EXPECT_NE(out.find("add --clone"), std::string::npos) << out;
  ASSERT_EQ(Cli({"restore", set_id_, "--target", "core/profile", "--to-release",
                 "fx", "--clone", "--to", *work_ / "clone"},
                &out),
            0)
      << out;
  // A clone is the one restore that drops setuid/setgid bits by default.
  struct stat source_tool, cloned_tool;
  const std::string tool = "/modes/setuid-tool";
  ASSERT_EQ(stat((SourceOf("core/profile") + tool).c_str(), &source_tool), 0);
  ASSERT_EQ(stat((*work_ / "clone/core-profile" + tool).c_str(), &cloned_tool),
            0);
  EXPECT_EQ(cloned_tool.st_mode, source_tool.st_mode & ~(S_ISUID | S_ISGID));
  EXPECT_EQ(
      CompareTrees(SourceOf("core/profile"), *work_ / "clone/core-profile"),
      std::vector<std::string>{absl::StrCat("modes/setuid-tool: type/mode ",
                                            source_tool.st_mode,
                                            " != ", cloned_tool.st_mode)});
}

v1::Artifact ProfileOf(const v1::SetDetail& detail) {
  for (const v1::Artifact& a : detail.artifacts()) {
    if (a.target() == "core/profile") return a;
  }
  ADD_FAILURE() << "no core/profile in set " << detail.set().id();
  return {};
}

TEST_F(EndToEndTest, HooksQuiesceTheServerAndAlwaysStartItAgain) {
  const std::string profile = *work_ / "hooked-profile";
  MakeStandInServer(profile);
  std::string out;
  ASSERT_EQ(RunCommand({profile + "/bin/startServer.sh"}, &out), 0) << out;
  // Whatever fails below, the stand-in server does not outlive the test.
  struct StopServer {
    std::string script;
    ~StopServer() { RunCommand({script}, nullptr); }
  } stop_server{profile + "/bin/stopServer.sh"};
  ASSERT_TRUE(ServerRunning(profile));
  std::unique_ptr<ChildProcess> agent(
      StartAgent("hooked-core-0", "core", "hooked", {"profile=" + profile}));
  ASSERT_TRUE(agent);
  const std::string assets = *work_ / "hooked-assets";
  WriteFile(assets + "/asset.bin", "an asset");
  std::unique_ptr<ChildProcess> dam(
      StartAgent("hooked-dam-0", "dam", "hooked", {"assets=" + assets}));
  ASSERT_TRUE(dam);
  ASSERT_EQ(
      Cli({"backup", "--namespace", "dx-prod", "--release", "hooked"}, &out), 0)
      << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) complete")));
  const v1::SetDetail detail = Show(m[1]);
  EXPECT_TRUE(ServerRunning(profile)) << "started again after the set";
  EXPECT_GE(detail.set().quiesce_seconds(), 0);
  std::vector<std::string> hooks;
  for (const auto& job : detail.jobs()) {
    if (job.kind() == v1::JOB_HOOK) hooks.push_back(job.target());
  }
  EXPECT_EQ(hooks,
            (std::vector<std::string>{"pre-hook/stop-portal@hooked-core-0",
                                      "post-hook/start-portal@hooked-core-0"}));
  // Every state file in the capture is whole: the server was stopped.
  const std::string extracted = *work_ / "hooked-extract";
  fs::create_directories(extracted);
  ASSERT_EQ(RunCommand({"tar", "--zstd", "-xf",
                        *work_ / ("data/store/" + ProfileOf(detail).path()),
                        "-C", extracted},
                       &out),
            0)
      << out;
  for (int f = 1; f <= 4; ++f) {
    const std::string text =
        testing::ReadFile(extracted + "/state/f" + std::to_string(f) + ".txt");
    std::istringstream lines(text);
    std::string line, first;
    int count = 0;
    while (std::getline(lines, line)) {
      if (count++ == 0) first = line;
      EXPECT_EQ(line, first) << "f" << f << " torn:\n" << text;
    }
    EXPECT_EQ(count, 4) << "f" << f << " torn:\n" << text;
  }

  // Restoring in place goes in the DX order: stop, restore, start.
  const std::string before_restore = agent->Output();
  ASSERT_EQ(Cli({"restore", detail.set().id(), "--mode", "replace"}, &out), 0)
      << out;
  const std::string during = agent->Output().substr(before_restore.size());
  const size_t stop = during.find("running hook stop-portal");
  const size_t restore = during.find("restoring profile");
  const size_t start = during.find("running hook start-portal");
  ASSERT_NE(stop, std::string::npos) << during;
  ASSERT_NE(restore, std::string::npos) << during;
  ASSERT_NE(start, std::string::npos) << during;
  EXPECT_LT(stop, restore);
  EXPECT_LT(restore, start);
  EXPECT_TRUE(ServerRunning(profile)) << "started again after the restore";

  // Restores that overwrite nothing of core's leave its server alone: a DAM
  // volume in place, the profile elsewhere.
  const std::string before_partial = agent->Output();
  ASSERT_EQ(Cli({"restore", detail.set().id(), "--target", "dam/assets"}, &out),
            0)
      << out;
  ASSERT_EQ(Cli({"restore", detail.set().id(), "--target", "core/profile",
                 "--to", *work_ / "hooked-elsewhere"},
                &out),
            0)
      << out;
  EXPECT_EQ(agent->Output().substr(before_partial.size()).find("running hook"),
            std::string::npos)
      << agent->Output().substr(before_partial.size());

  // A set whose capture fails still starts the server again.
  std::unique_ptr<ChildProcess> bad(StartAgent(
      "hooked-bad-core-0", "core", "hooked-bad", {"profile=" + profile}));
  ASSERT_TRUE(bad);
  EXPECT_EQ(Cli({"backup", "--namespace", "dx-prod", "--release", "hooked-bad"},
                &out),
            1)
      << out;
  EXPECT_NE(out.find("no_such_db"), std::string::npos) << out;
  EXPECT_TRUE(ServerRunning(profile)) << "post-hook ran after the failure";
}

TEST_F(EndToEndTest, PolicyCopiesGoToASecondDirectoryWithTheirOwnRetention) {
  const std::string volume = *work_ / "copy-volume";
  WriteFile(volume + "/config/a.xml", "<a/>");
  std::unique_ptr<ChildProcess> agent(
      StartAgent("copy-core-0", "core", "copyrel", {"data=" + volume}));
  ASSERT_TRUE(agent);
  std::string out;
  for (int run = 0; run < 3; ++run) {
    ASSERT_EQ(Cli({"backup", "--policy", "copied"}, &out), 0) << out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) complete")))
        << out;
    // The copy follows the set's end on the scheduler's side.
    EXPECT_NE(scheduler_->WaitForLine("copied set " + m[1].str()), "");
  }
  v1::ListSetsResponse sets;
  ASSERT_TRUE(cli_->JsonInto({"sets", "--policy", "copied"}, &sets));
  ASSERT_EQ(sets.sets_size(), 3) << "the store keeps every set (no retention)";
  std::set<std::string> copies;
  for (const auto& e :
       fs::directory_iterator(*work_ / "copies/dx-prod/copyrel")) {
    copies.insert(e.path().filename().string());
    EXPECT_TRUE(fs::exists(e.path() / "manifest.json"));
    EXPECT_TRUE(fs::exists(e.path() / "RESTORE.txt"));
  }
  EXPECT_EQ(copies,
            (std::set<std::string>{sets.sets(0).id(), sets.sets(1).id()}))
      << "the copy keeps its own last 2";
}

}  // namespace
}  // namespace dxbackup
