// Database members whose commands run in an agent's pod (`component` on a
// `command` database or an `external` member), end to end with a real
// scheduler and real core agents:
// - a dump command run by the first core agent (DXBACKUP_POD says which),
//   inside the quiesce window, its stdout uploaded as zstd and fed back
//   into the restore command on that agent;
// - a failing command fails its member with its exit status and stderr,
//   the value of an env_files variable masked;
// - `while_running`: captured before the pre-hooks and restored after the
//   post-hooks (DAM's references with xmlaccess need DX up), and alone
//   it stops nothing;
// - an external member triggered by an agent: the identifier (the last
//   line it printed) recorded, shown, and handed to its restore command;
// - a command past its timeout is killed, failing its member;
// - no connected agent of the component: the member fails at once.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "dxbackup/v1/admin.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::WriteFile;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class AgentCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = dir_ / "events";
    WriteFile(dir_ / "jcr.rows", "row 1\nrow 2\n");
    WriteFile(dir_ / "token", "s3cr3t-token\n");
    // Every hook and command appends what it is to one file: their order.
    const std::string note = "echo \\\"$0 $DXBACKUP_POD\\\" >> " + events_;
    auto hooks = [&] {
      return "    hooks:\n"
             "      - {name: stop, component: core, phase: pre, command: [sh, "
             "-c, \"" +
             note +
             "\", pre]}\n"
             "      - {name: start, component: core, phase: post, command: "
             "[sh, -c, \"" +
             note + "\", post]}\n";
    };
    auto deployment = [&](const std::string& release,
                          const std::string& databases) {
      return "  - namespace: dx-prod\n    release: " + release + "\n" +
             hooks() + "    databases:\n" + databases;
    };
    const std::string env_files =
        "          env_files: {TOKEN: " + dir_ / "token" + "}\n";
    WriteFile(
        dir_ / "scheduler.yaml",
        "deployments:\n" +
            deployment("dx",
                       "      - name: jcr\n        command:\n"
                       "          component: core\n"
                       "          dump: [sh, -c, \"" +
                           note +
                           "; echo \\\"dumped as $TOKEN\\\" >&2; echo "
                           "\\\"$DXBACKUP_POD\\\"; cat " +
                           dir_ / "jcr.rows" + "\", dump]\n" +
                           "          restore: [sh, -c, \"" + note +
                           "; cat > " + dir_ / "jcr.restored" +
                           "\", restore]\n" + env_files) +
            deployment("dam",
                       "      - name: dam-references\n        command:\n"
                       "          component: core\n"
                       "          while_running: true\n"
                       "          dump: [sh, -c, \"" +
                           note +
                           "; echo '<request>collections</request>'\", "
                           "export]\n"
                           "          restore: [sh, -c, \"" +
                           note + "; cat > " + dir_ / "dam.imported" +
                           "\", import]\n") +
            deployment("failing",
                       "      - name: jcr\n        command:\n"
                       "          component: core\n"
                       "          dump: [sh, -c, 'echo \"login with $TOKEN "
                       "refused\" >&2; exit 3']\n"
                       "          restore: [cat]\n" +
                           env_files) +
            deployment("db2",
                       "      - name: wpsdb\n        external:\n"
                       "          component: core\n"
                       "          backup: [sh, -c, 'echo \"Backup "
                       "successful.\"; echo \"LSN 0/16B3748 on "
                       "$DXBACKUP_POD\"']\n"
                       "          restore: [sh, -c, 'cat > " +
                           dir_ / "db2.stdin" +
                           "; echo \"$DXBACKUP_EXTERNAL_ID\" > " +
                           dir_ / "db2.restored" + "']\n") +
            deployment("db2blank",
                       "      - name: wpsdb\n        external:\n"
                       "          component: core\n"
                       "          backup: [sh, -c, 'printf \"\\n  \\n\"']\n") +
            // A binary dump, and stderr in Latin-1 (a DB2 client's in a
            // Latin-1 locale): neither is UTF-8.
            deployment("binary",
                       "      - name: jcr\n        command:\n"
                       "          component: core\n"
                       "          dump: [sh, -c, 'printf \"SQL1035N base de "
                       "donn\\\\351es\\\\n\" >&2; printf "
                       "\"\\\\377\\\\376dump\\\\0\\\\351\"']\n"
                       "          restore: [cat]\n") +
            deployment("binaryfail",
                       "      - name: jcr\n        command:\n"
                       "          component: core\n"
                       "          dump: [sh, -c, 'printf \"SQL1035N base de "
                       "donn\\\\351es\\\\n\" >&2; exit 4']\n"
                       "          restore: [cat]\n") +
            deployment("hung",
                       "      - name: jcr\n        command:\n"
                       "          component: core\n"
                       "          timeout_seconds: 1\n"
                       "          dump: [sh, -c, 'echo waiting for a lock "
                       ">&2; sleep 300']\n"
                       "          restore: [cat]\n") +
            deployment("nodam",
                       "      - name: jcr\n        command:\n"
                       "          component: dam\n"
                       "          dump: [echo, rows]\n"
                       "          restore: [cat]\n"));
    scheduler_ = std::make_unique<testing::SchedulerProcess>(
        testing::SchedulerIn(dir_.path()));
    ASSERT_FALSE(scheduler_->address().empty()) << scheduler_->Output();
    cli_ = std::make_unique<testing::CliClient>(scheduler_->address());
  }

  void TearDown() override {
    for (auto& agent : agents_) agent->Signal(SIGTERM);
    if (scheduler_) scheduler_->Signal(SIGTERM);
  }

  // Starts core agents dx-core-0 and dx-core-1 of `release`, each with a
  // volume of its own.
  void StartCoreAgents(const std::string& release) {
    for (const std::string pod : {"dx-core-1", "dx-core-0"}) {
      const std::string volume = dir_ / (release + "-" + pod);
      WriteFile(volume + "/log", pod);
      agents_.push_back(
          std::make_unique<testing::AgentProcess>(testing::AgentOf(
              scheduler_->address(), "dx-prod", release, pod, "core",
              {"tranlog=" + volume}, dir_ / (release + "-" + pod + ".log"))));
      ASSERT_TRUE(agents_.back()->registered()) << agents_.back()->Output();
    }
  }

  // The events noted since the last call, one per line.
  std::string TakeEvents() {
    std::string text =
        fs::exists(events_) ? testing::ReadFile(events_) : std::string();
    fs::remove(events_);
    return text;
  }

  v1::Artifact ArtifactOf(const v1::SetDetail& detail,
                          const std::string& target) {
    for (const v1::Artifact& a : detail.artifacts()) {
      if (a.target() == target) return a;
    }
    ADD_FAILURE() << "no " << target << " in " << detail.ShortDebugString();
    return v1::Artifact();
  }

  testing::TempDir dir_;
  std::string events_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::CliClient> cli_;
  std::vector<std::unique_ptr<testing::AgentProcess>> agents_;
};

TEST_F(AgentCommandsTest, DumpRunsInTheFirstCoreAgentsPodInsideTheWindow) {
  StartCoreAgents("dx");
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "dx", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason() << out;
  // Pre-hooks on both pods, the dump on the first, post-hooks on both.
  const std::vector<std::string> events = Lines(TakeEvents());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].substr(0, 4), "pre ");
  EXPECT_EQ(events[1].substr(0, 4), "pre ");
  EXPECT_EQ(events[2], "dump dx-core-0");
  EXPECT_EQ(events[3].substr(0, 5), "post ");
  EXPECT_EQ(events[4].substr(0, 5), "post ");

  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  const v1::Artifact dump = ArtifactOf(detail, "db/jcr");
  EXPECT_EQ(dump.kind(), v1::ARTIFACT_COMMAND_DUMP);
  EXPECT_EQ(dump.compression(), v1::COMPRESSION_ZSTD);
  EXPECT_EQ(dump.source(), "command database jcr (sh) on dx-core-0");
  // Stored as zstd: the stdout as printed, read back with the zstd tool.
  ASSERT_EQ(testing::RunCommand(
                {"zstd", "-dc", dir_ / ("data/store/" + dump.path())}, &out),
            0)
      << out;
  EXPECT_EQ(out, "dx-core-0\nrow 1\nrow 2\n");
  ASSERT_EQ(cli_->Run({"verify", set.id(), "--deep"}, &out), 0) << out;
  // What the command said on stderr is the job's log, masked.
  std::string log;
  for (const v1::Job& job : detail.jobs()) {
    if (job.target() == "db/jcr") log = job.log();
  }
  EXPECT_EQ(log, "dumped as [env_files TOKEN]\n");

  // Restored through the same pod's agent, inside the window.
  ASSERT_EQ(cli_->Run({"restore", set.id(), "--target", "db/jcr"}, &out), 0)
      << out;
  EXPECT_EQ(testing::ReadFile(dir_ / "jcr.restored"),
            "dx-core-0\nrow 1\nrow 2\n");
  const std::vector<std::string> restored = Lines(TakeEvents());
  ASSERT_EQ(restored.size(), 5u);
  EXPECT_EQ(restored[2], "restore dx-core-0");
}

// Protobuf strings must be UTF-8: a binary dump's last bytes, or stderr
// in another encoding, must not make the agent's messages unreadable.
TEST_F(AgentCommandsTest, BinaryOutputAndLatin1StderrGoThrough) {
  StartCoreAgents("binary");
  std::string out;
  v1::BackupSet set = cli_->Backup("dx-prod", "binary", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason() << out;
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  const v1::Artifact dump = ArtifactOf(detail, "db/jcr");
  ASSERT_EQ(testing::RunCommand(
                {"zstd", "-dc", dir_ / ("data/store/" + dump.path())}, &out),
            0);
  EXPECT_EQ(out, std::string("\xff\xfe"
                             "dump\0\xe9",
                             8));
  std::string log;
  for (const v1::Job& job : detail.jobs()) {
    if (job.target() == "db/jcr") log = job.log();
  }
  EXPECT_EQ(log, "SQL1035N base de donn\\xE9es\n");
  agents_.clear();

  StartCoreAgents("binaryfail");
  set = cli_->Backup("dx-prod", "binaryfail", 1, &out);
  ASSERT_EQ(set.status(), v1::SET_FAILED) << out;
  EXPECT_NE(set.reason().find("exited with status 4: SQL1035N base de "
                              "donn\\xE9es"),
            std::string::npos)
      << set.reason();
}

TEST_F(AgentCommandsTest, AFailingCommandFailsItsMemberWithItsStderrMasked) {
  StartCoreAgents("failing");
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "failing", 1, &out);
  ASSERT_EQ(set.status(), v1::SET_FAILED) << out;
  EXPECT_NE(set.reason().find("db/jcr: the command of db/jcr exited with "
                              "status 3: login with [env_files TOKEN] "
                              "refused"),
            std::string::npos)
      << set.reason();
  EXPECT_EQ(set.reason().find("s3cr3t-token"), std::string::npos)
      << set.reason();
  // Nothing half-written is left as the member's artifact.
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  for (const v1::Artifact& a : detail.artifacts()) {
    EXPECT_NE(a.target(), "db/jcr");
  }
}

TEST_F(AgentCommandsTest, WhileRunningIsCapturedBeforeAndRestoredAfterWindow) {
  StartCoreAgents("dam");
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "dam", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason() << out;
  std::vector<std::string> events = Lines(TakeEvents());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0], "export dx-core-0");
  EXPECT_EQ(events[1].substr(0, 4), "pre ");
  EXPECT_EQ(events[4].substr(0, 5), "post ");

  // A whole-set restore: the volumes inside the window, the import once
  // DX runs again.
  ASSERT_EQ(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_EQ(testing::ReadFile(dir_ / "dam.imported"),
            "<request>collections</request>\n");
  events = Lines(TakeEvents());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].substr(0, 4), "pre ");
  EXPECT_EQ(events[3].substr(0, 5), "post ");
  EXPECT_EQ(events[4], "import dx-core-0");

  // Restored alone, it stops nothing: no hook runs.
  ASSERT_EQ(
      cli_->Run({"restore", set.id(), "--target", "db/dam-references"}, &out),
      0)
      << out;
  EXPECT_EQ(TakeEvents(), "import dx-core-0\n");
}

TEST_F(AgentCommandsTest, AnAgentsExternalBackupIdentifierIsRecorded) {
  StartCoreAgents("db2");
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "db2", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason() << out;
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  const v1::Artifact reference = ArtifactOf(detail, "db/wpsdb");
  EXPECT_EQ(reference.kind(), v1::ARTIFACT_EXTERNAL_BACKUP);
  EXPECT_EQ(reference.external_id(), "LSN 0/16B3748 on dx-core-0");
  ASSERT_EQ(cli_->Run({"export", set.id(), "--to", dir_ / "export"}, &out), 0)
      << out;
  const std::string restore_txt =
      testing::ReadFile(dir_ / ("export/" + set.id() + "/RESTORE.txt"));
  EXPECT_NE(restore_txt.find("wpsdb: restore backup LSN 0/16B3748 on "
                             "dx-core-0"),
            std::string::npos)
      << restore_txt;

  ASSERT_EQ(cli_->Run({"restore", set.id(), "--target", "db/wpsdb"}, &out), 0)
      << out;
  EXPECT_EQ(testing::ReadFile(dir_ / "db2.restored"),
            "LSN 0/16B3748 on dx-core-0\n");
  EXPECT_EQ(testing::ReadFile(dir_ / "db2.stdin"),
            "Backup successful.\nLSN 0/16B3748 on dx-core-0\n");
}

// A review found that an agent's external backup command that printed
// only blank lines made a complete set with an empty identifier.
TEST_F(AgentCommandsTest, AnAgentsExternalBackupWithoutIdentifierFails) {
  StartCoreAgents("db2blank");
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "db2blank", 1, &out);
  ASSERT_EQ(set.status(), v1::SET_FAILED) << out;
  EXPECT_NE(set.reason().find("db/wpsdb: its backup command printed no "
                              "identifier"),
            std::string::npos)
      << set.reason();
}

// A review found that a hung command held its set open for ever.
TEST_F(AgentCommandsTest, AHungCommandIsStoppedAtItsTimeout) {
  StartCoreAgents("hung");
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "hung", 1, &out);
  ASSERT_EQ(set.status(), v1::SET_FAILED) << out;
  EXPECT_NE(set.reason().find("db/jcr: the command of db/jcr was stopped: "
                              "timed out after 1 s: waiting for a lock"),
            std::string::npos)
      << set.reason();
  // The window still closed: both pods' post-hooks ran.
  EXPECT_EQ(Lines(TakeEvents()).size(), 4u);
}

TEST_F(AgentCommandsTest, NoAgentOfTheComponentFailsTheMemberAtOnce) {
  StartCoreAgents("nodam");
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "nodam", 1, &out);
  ASSERT_EQ(set.status(), v1::SET_FAILED) << out;
  EXPECT_NE(set.reason().find("db/jcr: no agent of component dam of "
                              "dx-prod/nodam is connected to run its command"),
            std::string::npos)
      << set.reason();
}

}  // namespace
}  // namespace dxbackup
