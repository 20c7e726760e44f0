// Faults that must lose nothing: the store filling up mid-set, PostgreSQL
// stopping mid-dump, the scheduler killed mid-upload. Each ends with the
// catalog consistent, a clear reason on the failed set, no partial file,
// every earlier complete set still verified and restorable, and the next
// set completing. (An agent killed mid-upload, a corrupted artifact and a
// cut or stalled connection are in end_to_end_test and upload_stream_test.)
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <regex>

#include "dxbackup/v1/admin.pb.h"
#include "tests/support/random_bytes.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_compare.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::CompareTrees;
using testing::RandomBytes;
using testing::RunCommand;
using testing::WriteFile;

const std::string kBin = DXBACKUP_BIN_DIR;
const std::string kSource = DXBACKUP_SOURCE_DIR;
const std::string kFixtures = DXBACKUP_FIXTURES_DIR;

// Regular files under `dir` (none if it does not exist).
std::vector<std::string> FilesUnder(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  return out;
}

class FaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chmod(dir_.path().c_str(), 0755);  // the postgres user enters it
    volume_ = dir_ / "volume";
    WriteFile(volume_ + "/data/first.bin", RandomBytes(1 << 20, 1));
    WriteFile(volume_ + "/conf/settings.properties", "a=1\n");
  }

  void TearDown() override {
    agent_.reset();
    if (scheduler_) scheduler_->Signal(SIGTERM);
    scheduler_.reset();
    if (mounted_) umount2((dir_ / "data/store").c_str(), MNT_DETACH);
    pg_.reset();  // stops it
  }

  void StartScheduler(const std::string& config, const std::string& listen) {
    testing::SchedulerOptions options =
        testing::SchedulerIn(dir_.path(), config);
    options.listen = listen;
    options.log =
        dir_ / ("scheduler-" + std::to_string(++schedulers_) + ".log");
    scheduler_ = std::make_unique<testing::SchedulerProcess>(options);
    address_ = scheduler_->address();
    ASSERT_FALSE(address_.empty()) << scheduler_->Output();
    cli_ = std::make_unique<testing::CliClient>(address_);
  }

  void StartAgent(const std::vector<std::string>& extra = {}) {
    testing::AgentOptions options =
        testing::AgentOf(address_, "faults", "dx", "core-0", "core",
                         {"data=" + volume_}, dir_ / "agent.log");
    options.flags = extra;
    agent_ = std::make_unique<testing::AgentProcess>(options);
    ASSERT_TRUE(agent_->registered()) << agent_->Output();
  }

  int Backup(std::string* out) {
    return cli_->Run({"backup", "--namespace", "faults", "--release", "dx"},
                     out);
  }

  // The release's sets, newest first.
  std::vector<v1::BackupSet> Sets() {
    auto sets = cli_->Json<v1::ListSetsResponse>({"sets", "--release", "dx"});
    return {sets.sets().begin(), sets.sets().end()};
  }

  // A complete set verifies deep and restores to exactly `expected`.
  void ExpectRestorable(const std::string& set_id, const std::string& expected,
                        const std::string& name) {
    std::string out;
    EXPECT_EQ(cli_->Run({"verify", set_id, "--deep"}, &out), 0) << out;
    const std::string to = dir_ / ("restored-" + name);
    ASSERT_EQ(
        cli_->Run({"restore", set_id, "--target", "core/data", "--to", to},
                  &out),
        0)
        << out;
    EXPECT_EQ(CompareTrees(expected, to + "/core-data"),
              std::vector<std::string>{});
  }

  // The volume as it is now, for comparing a later restore with.
  std::string Snapshot(const std::string& name) {
    const std::string copy = dir_ / ("snapshot-" + name);
    std::string out;
    EXPECT_EQ(RunCommand({"cp", "-a", volume_, copy}, &out), 0) << out;
    return copy;
  }

  testing::TempDir dir_;
  std::string volume_, address_, pg_dir_;
  std::unique_ptr<testing::PgTestServer> pg_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::AgentProcess> agent_;
  std::unique_ptr<testing::CliClient> cli_;
  int schedulers_ = 0;
  bool mounted_ = false;
};

const char kPlainConfig[] =
    "deployments:\n"
    "  - namespace: faults\n"
    "    release: dx\n";

TEST_F(FaultsTest, StoreRunningOutOfSpaceFailsTheSetAndKeepsEarlierOnes) {
  ASSERT_EQ(geteuid(), 0u)
      << "this test mounts a small tmpfs as the store; run the test command "
         "as root (sudo tools/test.sh), as CI does";
  const std::string store = dir_ / "data/store";
  fs::create_directories(store);
  ASSERT_EQ(mount("tmpfs", store.c_str(), "tmpfs", 0, "size=4m"), 0)
      << std::strerror(errno);
  mounted_ = true;
  StartScheduler(kPlainConfig, "127.0.0.1:0");
  StartAgent();
  std::string out;
  ASSERT_EQ(Backup(&out), 0) << out;
  const std::string first = Sets().at(0).id();
  const std::string before = Snapshot("first");

  WriteFile(volume_ + "/data/too-big.bin", RandomBytes(6 << 20, 2));
  EXPECT_EQ(Backup(&out), 1) << out;
  std::vector<v1::BackupSet> sets = Sets();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].status(), v1::SET_FAILED);
  EXPECT_NE(sets[0].reason().find("core/data"), std::string::npos)
      << sets[0].reason();
  EXPECT_NE(sets[0].reason().find("store is full"), std::string::npos)
      << sets[0].reason();
  EXPECT_EQ(FilesUnder(store + "/faults/dx/" + sets[0].id()),
            std::vector<std::string>{})
      << "no partial file keeps the space";
  EXPECT_EQ(sets[1].status(), v1::SET_COMPLETE);
  ExpectRestorable(first, before, "first");

  // Space is back once the big file goes: the next set completes.
  fs::remove(volume_ + "/data/too-big.bin");
  EXPECT_EQ(Backup(&out), 0) << out;
  EXPECT_EQ(Sets().at(0).status(), v1::SET_COMPLETE);
}

TEST_F(FaultsTest, PostgresStoppingMidDumpFailsTheSetAndKeepsEarlierOnes) {
  pg_dir_ = dir_ / "pg";
  pg_ = std::make_unique<testing::PgTestServer>(pg_dir_);
  std::string out;
  ASSERT_EQ(pg_->Start(&out), 0) << out;
  ASSERT_EQ(pg_->Run({"createdb", "dxmediadb"}, &out), 0) << out;
  ASSERT_EQ(pg_->Run({"psql", "-q", "-v", "rows=20000", "-d", "dxmediadb", "-f",
                      kFixtures + "/dam-db.sql"},
                     &out),
            0)
      << out;
  // pg_dump as usual, except that once `.stop-after` exists it stops the
  // server after the first 64 KiB of the dump, as a crash or a failover
  // would, and passes on whatever pg_dump does then.
  const std::string wrapper = dir_ / "pgbin/pg_dump";
  WriteFile(wrapper,
            "#!/bin/bash\n"
            "set -o pipefail\n"
            "real=$(ls -d /usr/lib/postgresql/*/bin/pg_dump | sort -V | "
            "tail -1)\n"
            "[ -e '" +
                dir_ / ".stop-after" +
                "' ] || exec \"$real\" \"$@\"\n"
                "\"$real\" \"$@\" | { head -c 65536; '" +
                kSource + "/tools/pg-test-server.sh' stop '" + pg_dir_ +
                "' >&2; cat; }\n");
  chmod(wrapper.c_str(), 0755);
  // pg_restore is looked for beside pg_dump.
  ASSERT_EQ(RunCommand({"bash", "-c",
                        "ln -s \"$(ls -d /usr/lib/postgresql/*/bin/pg_restore "
                        "| sort -V | tail -1)\" " +
                            dir_ / "pgbin/pg_restore"},
                       &out),
            0)
      << out;
  StartScheduler(std::string(kPlainConfig) + "    databases:\n" +
                     pg_->DatabaseConfig("dxmediadb") +
                     "        pg_dump_path: " + wrapper + "\n",
                 "127.0.0.1:0");
  StartAgent();
  ASSERT_EQ(Backup(&out), 0) << out;
  const std::string first = Sets().at(0).id();
  const std::string before = Snapshot("first");

  WriteFile(dir_ / ".stop-after", "");
  EXPECT_EQ(Backup(&out), 1) << out;
  std::vector<v1::BackupSet> sets = Sets();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].status(), v1::SET_FAILED);
  EXPECT_NE(sets[0].reason().find("db/dxmediadb"), std::string::npos)
      << sets[0].reason();
  EXPECT_TRUE(std::regex_search(sets[0].reason(),
                                std::regex("terminating connection|"
                                           "server closed the connection|"
                                           "connection to server")))
      << "pg_dump's own words: " << sets[0].reason();
  for (const std::string& file :
       FilesUnder(dir_ / ("data/store/faults/dx/" + sets[0].id()))) {
    EXPECT_EQ(file.find("dxmediadb.pgdump"), std::string::npos)
        << "no dump, whole or partial, of the failed set: " << file;
  }

  // PostgreSQL comes back: the earlier set's dump restores into a new
  // database with every row, and the next set completes.
  fs::remove(dir_ / ".stop-after");
  ASSERT_EQ(pg_->Start(&out), 0) << out;
  ExpectRestorable(first, before, "first");
  ASSERT_EQ(cli_->Run({"restore", first, "--target", "db/dxmediadb",
                       "--database-to", "from_first"},
                      &out),
            0)
      << out;
  std::string original, restored;
  const std::string count = "SELECT count(*) FROM schema_1_1_0.media_item";
  ASSERT_EQ(
      pg_->Run({"psql", "-tA", "-d", "dxmediadb", "-c", count}, &original), 0)
      << original;
  ASSERT_EQ(
      pg_->Run({"psql", "-tA", "-d", "from_first", "-c", count}, &restored), 0)
      << restored;
  EXPECT_EQ(restored, original);
  EXPECT_EQ(Backup(&out), 0) << out;
}

TEST_F(FaultsTest,
       SchedulerKilledMidUploadRestartsCleanAndTheNextSetCompletes) {
  StartScheduler(kPlainConfig, "127.0.0.1:0");
  const std::string listen = address_;
  // 3 MiB at 512 KiB/s: the upload is in flight for seconds.
  WriteFile(volume_ + "/data/slow.bin", RandomBytes(2 << 20, 3));
  StartAgent({"--limit-upload-kib", "512"});
  std::string out;
  ASSERT_EQ(Backup(&out), 0) << out;
  const std::string first = Sets().at(0).id();
  const std::string before = Snapshot("first");

  std::unique_ptr<ChildProcess> backup =
      cli_->Start({"backup", "--namespace", "faults", "--release", "dx"},
                  dir_ / "backup-2.log");
  // The second set's upload has started ("interrupted after" lines also
  // name "upload of job": count only the starts) ...
  const std::string started = scheduler_->WaitForNthLine(" started into ", 2);
  ASSERT_FALSE(started.empty()) << scheduler_->Output();
  // ... and cannot finish, however slow this machine is: its agent is
  // frozen until the scheduler has been killed.
  agent_->Signal(SIGSTOP);
  const std::string partial =
      dir_ /
      ("data/store/" + started.substr(started.rfind(' ') + 1) + ".partial");
  EXPECT_TRUE(fs::exists(partial)) << partial;
  scheduler_->Signal(SIGKILL);
  scheduler_->Wait();
  agent_->Signal(SIGCONT);
  EXPECT_EQ(backup->Wait(), 3) << "the CLI lost its scheduler: unreachable";

  StartScheduler(kPlainConfig, listen);
  EXPECT_FALSE(fs::exists(partial)) << "the restart removed the partial file";
  std::vector<v1::BackupSet> sets = Sets();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].status(), v1::SET_FAILED);
  EXPECT_NE(sets[0].reason().find("scheduler stopped"), std::string::npos)
      << sets[0].reason();
  ASSERT_FALSE(
      agent_->WaitForNthLine("registered with the scheduler", 2).empty())
      << agent_->Output();
  ExpectRestorable(first, before, "first");
  ASSERT_EQ(Backup(&out), 0) << out;
  ExpectRestorable(Sets().at(0).id(), volume_, "after-restart");
}

}  // namespace
}  // namespace dxbackup
