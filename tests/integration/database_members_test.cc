// Database members, end to end, with a real scheduler and PostgreSQL:
// - a `command` database, the generic path proved with pg_dump and psql
//   run as plain commands (as a DB2 or Oracle tool would be): the dump is
//   the command's stdout, stored as zstd; a restore feeds it to the
//   restore command; a failing or silent command fails its member with
//   the command's own words;
// - pg_restore --jobs from a dump spooled to the data dir, the spool
//   emptied after, and a spool that cannot be written failing the restore
//   before the original database is touched;
// - an `external` member: the identifier its backup command printed is
//   recorded, shown and named in RESTORE.txt; a restore runs its restore
//   command with it, or, without one, stops before the post-hooks and
//   names the backup to restore by hand, and --post-hooks-only ends the
//   window;
// - pg_dump refusing a standby (a real streaming replica) unless
//   allow_standby, and the server version recorded with a dump: a restore
//   into another major version is refused before anything is written,
//   unless --force-pg-version.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "dxbackup/v1/admin.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::WriteFile;

class DatabaseMembersTest : public ::testing::Test {
 protected:
  // One scheduler and server for the suite (see EndToEndTest on why it
  // starts from SetUp).
  void SetUp() override {
    static const bool ready = [] {
      StartSuite();
      return !::testing::Test::HasFailure();
    }();
    ASSERT_TRUE(ready) << "the suite did not start; its first test says why";
  }

  static void StartSuite() {
    work_ = new testing::TempDir;
    chmod(work_->path().c_str(), 0755);  // the postgres user enters it
    pg_ = new testing::PgTestServer(*work_ / "pg");
    std::string out;
    ASSERT_EQ(pg_->Start(&out), 0) << out;
    ASSERT_EQ(pg_->Run({"createdb", "ledger"}, &out), 0) << out;
    ASSERT_EQ(
        pg_->Run({"psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", "ledger", "-c",
                  "CREATE TABLE entries (id int PRIMARY KEY, what "
                  "text); INSERT INTO entries SELECT i, 'entry ' || i "
                  "FROM generate_series(1, 5000) i;"},
                 &out),
        0)
        << out;
    // pg_dump and psql as any engine's tools: a connection from env, the
    // password from a file through env_files.
    const std::string env = "          env: {PGHOST: " + pg_->dir() +
                            ", PGUSER: dxadmin}\n"
                            "          env_files: {PGPASSWORD: " +
                            pg_->password_file() + "}\n";
    auto deployment = [](const std::string& release, const std::string& name,
                         const std::string& command) {
      return "  - namespace: dx-prod\n    release: " + release +
             "\n    databases:\n      - name: " + name +
             "\n        command:\n" + command;
    };
    WriteFile(
        *work_ / "scheduler.yaml",
        "deployments:\n" +
            deployment(
                "ledger", "ledger",
                "          dump: [pg_dump, --no-owner, --dbname=ledger]\n"
                "          restore: [sh, -c, 'createdb "
                "\"$DXBACKUP_DATABASE_TO\" "
                "&& psql -q -v ON_ERROR_STOP=1 "
                "--dbname=\"$DXBACKUP_DATABASE_TO\"']\n" +
                    env) +
            deployment("failing", "jcr",
                       "          dump: [sh, -c, 'echo \"SQL30081N A "
                       "communication error has been detected\" >&2; exit "
                       "3']\n"
                       "          restore: [cat]\n") +
            deployment("silent", "jcr",
                       "          dump: ['true']\n          restore: [cat]\n") +
            deployment("badrestore", "jcr",
                       "          dump: [echo, some rows]\n"
                       "          restore: [sh, -c, 'cat > /dev/null; echo "
                       "\"SQL0204N JCR.ITEMS is an undefined name\" >&2; "
                       "exit 4']\n") +
            // Commands that hang, each stopped at its timeout; one that
            // leaves a child holding its stdout, stopped when it exits.
            deployment("hung", "jcr",
                       "          dump: [sh, -c, 'echo some rows; echo "
                       "\"SQL0911N waiting for a lock\" >&2; exec sleep "
                       "600']\n"
                       "          restore: [cat]\n"
                       "          timeout_seconds: 1\n") +
            deployment("hungrestore", "jcr",
                       "          dump: [echo, some rows]\n"
                       "          restore: [sh, -c, 'exec sleep 600']\n"
                       "          timeout_seconds: 1\n") +
            deployment("leftover", "jcr",
                       "          dump: [sh, -c, 'sleep 600 & echo some "
                       "rows']\n"
                       "          restore: [cat]\n"));
    // pg_dump and pg_restore that note their arguments, then run the real
    // ones.
    for (const std::string tool : {"pg_dump", "pg_restore"}) {
      WriteFile(*work_ / ("spy/" + tool),
                std::string("#!/bin/sh\nprintf '%s\\n' \"$@\" >> \"$(dirname "
                            "\"$0\")/") +
                    tool +
                    ".argv\"\nexec \"$(ls -d /usr/lib/postgresql/*/bin/" +
                    tool + " | sort -V | tail -1)\" \"$@\"\n");
      chmod((*work_ / ("spy/" + tool)).c_str(), 0755);
    }
    auto pg_database = [](const std::string& release,
                          const std::string& extra) {
      return "  - namespace: dx-prod\n    release: " + release +
             "\n    databases:\n" + pg_->DatabaseConfig("ledger") +
             "        pg_dump_path: " + *work_ / "spy/pg_dump" + "\n" + extra;
    };
    // A streaming standby of the server, which pg_dump must refuse: started
    // by the test that uses it.
    standby_ = new testing::PgTestServer(*work_ / "pg-standby");
    // External members: the DBA's own online backup, its identifier the
    // last line the backup command prints. db2 is restored by hand; its
    // core agents' hooks note when they run.
    const std::string hooks = *work_ / "db2.hooks";
    auto external = [](const std::string& release, const std::string& more,
                       const std::string& external) {
      return "  - namespace: dx-prod\n    release: " + release + "\n" + more +
             "    databases:\n      - name: wpsdb\n        external:\n" +
             external;
    };
    {
      std::string yaml = testing::ReadFile(*work_ / "scheduler.yaml");
      yaml += pg_database("jobs", "") +
              pg_database("streamed", "        restore_jobs: 1\n") +
              external("db2",
                       "    hooks:\n"
                       "      - {name: stop, component: core, phase: pre, "
                       "command: [sh, -c, 'echo stop >> " +
                           hooks +
                           "']}\n"
                           "      - {name: start, component: core, phase: "
                           "post, command: [sh, -c, 'echo start >> " +
                           hooks + "']}\n",
                       "          backup: [sh, -c, 'echo \"backing up WPSDB\" "
                       ">&2; echo \"Backup successful. The timestamp for "
                       "this backup image is : 20261201231500\"; echo "
                       "20261201231500']\n") +
              external("db2auto", "",
                       "          backup: [sh, -c, 'echo SCN-4242']\n"
                       "          restore: [sh, -c, 'cat > " +
                           *work_ / "db2auto.stdin" +
                           "; echo \"$DXBACKUP_EXTERNAL_ID\" > " +
                           *work_ / "db2auto.restored" + "']\n") +
              external("db2hung", "",
                       "          backup: [sh, -c, 'exec sleep 600']\n"
                       "          timeout_seconds: 1\n") +
              external("db2fail", "",
                       "          backup: [sh, -c, 'echo \"SQL1035N The "
                       "database is currently in use\" >&2; exit 4']\n") +
              "  - namespace: dx-prod\n    release: settled\n    databases:\n" +
              pg_->DatabaseConfig("settled") +
              "  - namespace: dx-prod\n    release: standby\n    databases:\n" +
              standby_->DatabaseConfig("ledger") +
              "  - namespace: dx-prod\n    release: standbyok\n"
              "    databases:\n" +
              standby_->DatabaseConfig("ledger") +
              "        allow_standby: true\n";
      WriteFile(*work_ / "scheduler.yaml", yaml);
    }
    scheduler_ =
        new testing::SchedulerProcess(testing::SchedulerIn(work_->path()));
    ASSERT_FALSE(scheduler_->address().empty()) << scheduler_->Output();
    cli_ = new testing::CliClient(scheduler_->address());
  }

  static void TearDownTestSuite() {
    if (scheduler_) scheduler_->Signal(SIGTERM);
    delete scheduler_;
    scheduler_ = nullptr;
    delete cli_;
    cli_ = nullptr;
    delete standby_;
    standby_ = nullptr;
    delete pg_;
    pg_ = nullptr;
    delete work_;
    work_ = nullptr;
  }

  // Backs up `release`; returns its set (the newest).
  static v1::BackupSet Backup(const std::string& release, int want_exit,
                              std::string* out) {
    return cli_->Backup("dx-prod", release, want_exit, out);
  }

  // A plain dump of `db`, less pg_dump's per-run \restrict lines.
  static std::string PlainDump(const std::string& db) {
    std::string out;
    EXPECT_EQ(pg_->Run({"pg_dump", "--no-owner", "-d", db}, &out), 0) << out;
    return std::regex_replace(out, std::regex(R"(\\(un)?restrict [^\n]*)"), "");
  }

  static testing::TempDir* work_;
  static testing::PgTestServer* pg_;
  static testing::PgTestServer* standby_;
  static testing::SchedulerProcess* scheduler_;
  static testing::CliClient* cli_;
};

testing::TempDir* DatabaseMembersTest::work_ = nullptr;
testing::PgTestServer* DatabaseMembersTest::pg_ = nullptr;
testing::PgTestServer* DatabaseMembersTest::standby_ = nullptr;
testing::SchedulerProcess* DatabaseMembersTest::scheduler_ = nullptr;
testing::CliClient* DatabaseMembersTest::cli_ = nullptr;

TEST_F(DatabaseMembersTest, ADumpCommandsOutputIsStoredAndRestoredBack) {
  std::string out;
  const v1::BackupSet set = Backup("ledger", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  ASSERT_EQ(detail.artifacts_size(), 1) << detail.ShortDebugString();
  const v1::Artifact& dump = detail.artifacts(0);
  EXPECT_EQ(dump.target(), "db/ledger");
  EXPECT_EQ(dump.kind(), v1::ARTIFACT_COMMAND_DUMP);
  EXPECT_EQ(fs::path(dump.path()).filename(), "ledger.dump.zst");
  EXPECT_EQ(dump.source(), "command database ledger (pg_dump)");

  // The stored file is zstd of what the command wrote.
  std::string stored;
  ASSERT_EQ(
      testing::RunCommand(
          {"zstd", "-dc", *work_ / ("data/store/" + dump.path())}, &stored),
      0)
      << stored;
  EXPECT_NE(stored.find("CREATE TABLE public.entries"), std::string::npos);
  EXPECT_NE(stored.find("4999\tentry 4999"), std::string::npos);

  // Restored by the restore command, into the database it was told.
  ASSERT_EQ(
      cli_->Run({"restore", set.id(), "--database-to", "ledger_copy"}, &out), 0)
      << out;
  EXPECT_EQ(PlainDump("ledger_copy"), PlainDump("ledger"));

  // verify --deep reads the whole zstd stream; RESTORE.txt says what the
  // file is and how to feed it back.
  ASSERT_EQ(cli_->Run({"verify", set.id(), "--deep"}, &out), 0) << out;
  ASSERT_EQ(cli_->Run({"export", set.id(), "--to", *work_ / "export"}, &out), 0)
      << out;
  const std::string restore_txt =
      testing::ReadFile(*work_ / ("export/" + set.id() + "/RESTORE.txt"));
  EXPECT_NE(restore_txt.find("zstd -dc ledger.dump.zst | RESTORE-COMMAND"),
            std::string::npos)
      << restore_txt;
}

TEST_F(DatabaseMembersTest, AFailingDumpCommandFailsTheSetWithItsStderr) {
  std::string out;
  const v1::BackupSet set = Backup("failing", 1, &out);
  EXPECT_EQ(set.status(), v1::SET_FAILED);
  EXPECT_NE(set.reason().find("db/jcr"), std::string::npos) << set.reason();
  EXPECT_NE(set.reason().find("exited with status 3"), std::string::npos)
      << set.reason();
  EXPECT_NE(set.reason().find("SQL30081N A communication error"),
            std::string::npos)
      << set.reason();
  EXPECT_EQ(cli_->Json<v1::SetDetail>({"show", set.id()}).artifacts_size(), 0)
      << "a failed dump leaves nothing stored";
}

TEST_F(DatabaseMembersTest, CommandsTheSchedulerRunsAreStoppedAtTheirTimeout) {
  std::string out;
  const v1::BackupSet hung = Backup("hung", 1, &out);
  EXPECT_EQ(hung.status(), v1::SET_FAILED);
  EXPECT_NE(hung.reason().find("the dump command of command database jcr "
                               "(sh) was stopped: timed out after 1 s: "
                               "SQL0911N waiting for a lock"),
            std::string::npos)
      << hung.reason();
  EXPECT_EQ(cli_->Json<v1::SetDetail>({"show", hung.id()}).artifacts_size(), 0)
      << "a dump cut short leaves nothing stored";

  const v1::BackupSet external = Backup("db2hung", 1, &out);
  EXPECT_NE(external.reason().find("the backup command of external database "
                                   "wpsdb (sh) was stopped: timed out after "
                                   "1 s"),
            std::string::npos)
      << external.reason();

  const v1::BackupSet set = Backup("hungrestore", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;
  EXPECT_NE(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_NE(out.find("the restore command of command database jcr (sh) was "
                     "stopped: timed out after 1 s"),
            std::string::npos)
      << out;
}

TEST_F(DatabaseMembersTest, WhatADumpCommandLeftRunningIsStoppedWhenItExits) {
  // The leftover `sleep` holds the command's stdout open: unless it is
  // stopped, the set waits for it (600 s).
  std::string out;
  const v1::BackupSet set = Backup("leftover", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  ASSERT_EQ(detail.artifacts_size(), 1);
  std::string stored;
  ASSERT_EQ(testing::RunCommand(
                {"zstd", "-dc",
                 *work_ / ("data/store/" + detail.artifacts(0).path())},
                &stored),
            0);
  EXPECT_EQ(stored, "some rows\n");
}

TEST_F(DatabaseMembersTest, ADumpCommandThatWritesNothingFailsTheSet) {
  std::string out;
  const v1::BackupSet set = Backup("silent", 1, &out);
  EXPECT_EQ(set.status(), v1::SET_FAILED);
  EXPECT_NE(set.reason().find("wrote nothing to its stdout"), std::string::npos)
      << set.reason();
}

TEST_F(DatabaseMembersTest,
       AFailingRestoreCommandFailsTheRestoreWithItsStderr) {
  std::string out;
  const v1::BackupSet set = Backup("badrestore", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;
  EXPECT_NE(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_NE(out.find("SQL0204N JCR.ITEMS is an undefined name"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("exited with status 4"), std::string::npos) << out;
}

TEST_F(DatabaseMembersTest, PgRestoreRunsJobsFromASpoolThatIsEmptiedAfter) {
  std::string out;
  const v1::BackupSet set = Backup("jobs", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;
  fs::remove(*work_ / "spy/pg_restore.argv");
  ASSERT_EQ(
      cli_->Run({"restore", set.id(), "--database-to", "ledger_jobs"}, &out), 0)
      << out;
  EXPECT_EQ(PlainDump("ledger_jobs"), PlainDump("ledger"));
  const std::string argv = testing::ReadFile(*work_ / "spy/pg_restore.argv");
  EXPECT_NE(argv.find("--jobs=2\n" + (*work_ / "data/spool/")),
            std::string::npos)
      << argv;
  EXPECT_TRUE(fs::is_empty(*work_ / "data/spool"))
      << "the spooled dump is removed after the restore";

  // restore_jobs: 1 streams the dump into pg_restore's stdin.
  const v1::BackupSet streamed = Backup("streamed", 0, &out);
  ASSERT_EQ(streamed.status(), v1::SET_COMPLETE) << out;
  fs::remove(*work_ / "spy/pg_restore.argv");
  ASSERT_EQ(
      cli_->Run({"restore", streamed.id(), "--database-to", "ledger_streamed"},
                &out),
      0)
      << out;
  EXPECT_EQ(PlainDump("ledger_streamed"), PlainDump("ledger"));
  EXPECT_EQ(testing::ReadFile(*work_ / "spy/pg_restore.argv").find("--jobs"),
            std::string::npos);
}

// What a database keeps outside itself — ALTER DATABASE ... SET, a role's
// settings in it, its privileges, its comment — as one line per setting.
std::string DatabaseSettings(testing::PgTestServer& pg, const std::string& db) {
  std::string out;
  EXPECT_EQ(
      pg.Run({"psql", "-X", "-At", "-d", "postgres", "-v", "db=" + db, "-c",
              "SELECT COALESCE(r.rolname, '-') || ' ' || array_to_string("
              "s.setconfig, ' | ') FROM pg_db_role_setting s JOIN "
              "pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r "
              "ON r.oid = s.setrole WHERE d.datname = '" +
                  db +
                  "' UNION ALL SELECT 'acl ' || COALESCE((SELECT "
                  "string_agg(a::text, "
                  "',' ORDER BY a::text) FROM unnest(datacl) a), 'default') "
                  "|| ' comment ' || COALESCE(shobj_description(oid, "
                  "'pg_database'), '') || ' encoding ' || "
                  "pg_encoding_to_char(encoding) || ' ' || datcollate || "
                  "' ' || datctype FROM pg_database WHERE datname = '" +
                  db + "' ORDER BY 1"},
             &out),
      0)
      << out;
  return out;
}

// A database's own settings live outside it: pg_dump's archive leaves them
// to CREATE DATABASE, and a restore creates the database anew. They came
// back with the server's defaults (an application's search_path gone,
// PUBLIC able to connect again) before the dump recorded them; and with
// the server's encoding and locale (UTF8, C.UTF-8 here) instead of its own.
TEST_F(DatabaseMembersTest, ADatabasesOwnSettingsComeBackWithIt) {
  std::string out;
  ASSERT_EQ(pg_->Run({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                      "postgres", "-c", "CREATE ROLE reporter LOGIN", "-c",
                      "CREATE DATABASE settled TEMPLATE template0 ENCODING "
                      "'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'",
                      "-c",
                      "ALTER DATABASE settled SET search_path = "
                      "\"$user\", public, \"Ledger Schema\"; "
                      "ALTER DATABASE settled SET work_mem = '8MB'; "
                      "ALTER ROLE reporter IN DATABASE settled SET "
                      "statement_timeout = '5s'; "
                      "REVOKE CONNECT, TEMPORARY ON DATABASE settled FROM "
                      "PUBLIC; GRANT CONNECT ON DATABASE settled TO reporter "
                      "WITH GRANT OPTION; COMMENT ON DATABASE settled IS "
                      "'the ledger''s settings';"},
                     &out),
            0)
      << out;
  const std::string settings = DatabaseSettings(*pg_, "settled");
  ASSERT_NE(settings.find("search_path=\"$user\", public, \"Ledger Schema\""),
            std::string::npos)
      << settings;
  ASSERT_NE(settings.find("encoding LATIN1 C C"), std::string::npos)
      << settings;
  const v1::BackupSet set = Backup("settled", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;

  // Over the original (dropped and created anew), into a server that
  // lacks it, and as a copy under another name: each with its settings.
  ASSERT_EQ(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_EQ(DatabaseSettings(*pg_, "settled"), settings);
  // The server was asked first, under a name of its own, whether it can
  // create the database so (before the original was dropped): gone again.
  ASSERT_EQ(pg_->Run({"psql", "-X", "-At", "-d", "postgres", "-c",
                      "SELECT count(*) FROM pg_database WHERE datname LIKE "
                      "'dxbackup_create_check_%'"},
                     &out),
            0)
      << out;
  EXPECT_EQ(out, "0\n");
  ASSERT_EQ(pg_->Run({"dropdb", "settled"}, &out), 0) << out;
  ASSERT_EQ(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_EQ(DatabaseSettings(*pg_, "settled"), settings);
  ASSERT_EQ(
      cli_->Run({"restore", set.id(), "--database-to", "settled_copy"}, &out),
      0)
      << out;
  std::string copy = DatabaseSettings(*pg_, "settled_copy");
  EXPECT_EQ(copy, settings);
}

TEST_F(DatabaseMembersTest, ASpoolThatCannotBeWrittenLeavesTheOriginalAlone) {
  std::string out;
  const v1::BackupSet set = Backup("jobs", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;
  const std::string before = PlainDump("ledger");
  // As a full disk would: the spool cannot take the dump.
  fs::remove_all(*work_ / "data/spool");
  WriteFile(*work_ / "data/spool", "not a directory");
  EXPECT_NE(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_NE(out.find("cannot write the dump to " + (*work_ / "data/spool") +
                     " for pg_restore --jobs"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("restore_jobs: 1"), std::string::npos) << out;
  EXPECT_EQ(PlainDump("ledger"), before)
      << "the restore over the original stopped before touching it";
  fs::remove(*work_ / "data/spool");
  fs::create_directory(*work_ / "data/spool");
}

TEST_F(DatabaseMembersTest,
       AnExternalBackupsIdIsRecordedAndARestoreWaitsForItBeforeThePostHooks) {
  const std::string volume = *work_ / "db2-profile";
  WriteFile(volume + "/wps.properties", "profile of the same moment\n");
  testing::AgentProcess agent(testing::AgentOf(
      scheduler_->address(), "dx-prod", "db2", "db2-core-0", "core",
      {"profile=" + volume}, *work_ / "db2-agent.log"));
  ASSERT_TRUE(agent.registered()) << agent.Output();
  std::string out;
  const v1::BackupSet set = Backup("db2", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;
  EXPECT_EQ(testing::ReadFile(*work_ / "db2.hooks"), "stop\nstart\n");

  // Recorded on the set: show --json and show say which backup it is.
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  const v1::Artifact* reference = nullptr;
  for (const v1::Artifact& a : detail.artifacts()) {
    if (a.target() == "db/wpsdb") reference = &a;
  }
  ASSERT_NE(reference, nullptr) << detail.ShortDebugString();
  EXPECT_EQ(reference->kind(), v1::ARTIFACT_EXTERNAL_BACKUP);
  EXPECT_EQ(reference->external_id(), "20261201231500");
  EXPECT_EQ(reference->source(), "external database wpsdb (sh)");
  ASSERT_EQ(cli_->Run({"show", set.id()}, &out), 0) << out;
  EXPECT_NE(out.find("EXTERNAL BACKUP: db/wpsdb is backup 20261201231500"),
            std::string::npos)
      << out;
  // The stored file is what the command printed; verify --deep checks
  // that it still names the recorded backup.
  EXPECT_NE(testing::ReadFile(*work_ / ("data/store/" + reference->path()))
                .find("The timestamp for this backup image is"),
            std::string::npos);
  ASSERT_EQ(cli_->Run({"verify", set.id(), "--deep"}, &out), 0) << out;
  ASSERT_EQ(
      cli_->Run({"export", set.id(), "--to", *work_ / "export-db2"}, &out), 0)
      << out;
  const std::string restore_txt =
      testing::ReadFile(*work_ / ("export-db2/" + set.id() + "/RESTORE.txt"));
  EXPECT_NE(restore_txt.find("wpsdb: restore backup 20261201231500"),
            std::string::npos)
      << restore_txt;

  // No restore command: the volume goes back inside the window, then the
  // restore stops before the post-hooks (DX stays stopped) and names the
  // backup to restore by hand.
  WriteFile(volume + "/wps.properties", "changed since\n");
  fs::remove(*work_ / "db2.hooks");
  EXPECT_NE(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_NE(out.find("by hand from its backup 20261201231500"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("dxbackup restore " + set.id() + " --post-hooks-only"),
            std::string::npos)
      << out;
  EXPECT_EQ(testing::ReadFile(volume + "/wps.properties"),
            "profile of the same moment\n");
  EXPECT_EQ(testing::ReadFile(*work_ / "db2.hooks"), "stop\n")
      << "the post-hook must wait for the database";

  // Meanwhile the deployment is held: a backup set would run the hooks
  // (starting DX over a database that is not back) and capture a
  // half-restored deployment. `show` says so, and how to end it.
  EXPECT_NE(
      cli_->Run({"backup", "--namespace", "dx-prod", "--release", "db2"}, &out),
      0);
  EXPECT_EQ(cli_->Json<v1::ListSetsResponse>(
                    {"sets", "--namespace", "dx-prod", "--release", "db2"})
                .sets(0)
                .id(),
            set.id())
      << "no set may start";
  EXPECT_NE(out.find("no backup set of dx-prod/db2 is taken while restore "
                     "restore-"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("dxbackup restore " + set.id() + " --post-hooks-only"),
            std::string::npos)
      << out;
  EXPECT_EQ(testing::ReadFile(*work_ / "db2.hooks"), "stop\n")
      << "a held deployment's hooks must not run";
  const v1::SetDetail held = cli_->Json<v1::SetDetail>({"show", set.id()});
  EXPECT_EQ(held.hold().namespace_(), "dx-prod");
  EXPECT_EQ(held.hold().release(), "db2");
  EXPECT_EQ(held.hold().set_id(), set.id());
  ASSERT_EQ(cli_->Run({"show", set.id()}, &out), 0) << out;
  EXPECT_NE(out.find("HOLD:       dx-prod/db2 is held by restore"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("dxbackup restore " + set.id() + " --release-hold"),
            std::string::npos)
      << out;

  // Once the DBA has restored it: only the post-hooks, which end the hold.
  ASSERT_EQ(cli_->Run({"restore", set.id(), "--post-hooks-only"}, &out), 0)
      << out;
  EXPECT_EQ(testing::ReadFile(*work_ / "db2.hooks"), "stop\nstart\n");
  EXPECT_NE(out.find("post-hooks"), std::string::npos) << out;
  EXPECT_FALSE(cli_->Json<v1::SetDetail>({"show", set.id()}).has_hold());
  const v1::BackupSet after = Backup("db2", 0, &out);
  EXPECT_EQ(after.status(), v1::SET_COMPLETE) << out;

  // Held again. Meanwhile a part of a set restored in place would start
  // DX by its hooks: refused, as is another set's release.
  ASSERT_NE(cli_->Run({"restore", set.id()}, &out), 0) << out;
  ASSERT_TRUE(cli_->Json<v1::SetDetail>({"show", set.id()}).has_hold());
  fs::remove(*work_ / "db2.hooks");
  EXPECT_NE(cli_->Run({"restore", set.id(), "--target", "core/profile"}, &out),
            0);
  EXPECT_NE(out.find("dx-prod/db2 is held by restore restore-"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(*work_ / "db2.hooks")) << "no hook ran";
  EXPECT_NE(cli_->Run({"restore", after.id(), "--release-hold"}, &out), 0);
  EXPECT_NE(out.find("no restore of set " + after.id() + " holds"),
            std::string::npos)
      << out;
  EXPECT_NE(
      cli_->Run({"restore", set.id(), "--release-hold", "--post-hooks-only"},
                &out),
      0);
  EXPECT_NE(out.find("--release-hold runs nothing"), std::string::npos) << out;
  // Released by hand (DX started by other means), though the set was found
  // corrupt since: sets are taken again, and no hook ran for the release.
  auto sql = [&](const std::string& statement) {
    ASSERT_EQ(testing::RunCommand({"sqlite3", "-cmd", ".timeout 5000",
                                   *work_ / "data/catalog.db", statement},
                                  &out),
              0)
        << out;
  };
  sql("UPDATE sets SET verify_result = 'CORRUPT' WHERE id = '" + set.id() +
      "'");
  ASSERT_EQ(cli_->Run({"restore", set.id(), "--release-hold"}, &out), 0) << out;
  EXPECT_NE(out.find("released the hold"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(*work_ / "db2.hooks"));
  EXPECT_NE(cli_->Run({"restore", set.id(), "--release-hold"}, &out), 0);
  EXPECT_NE(out.find("no restore of set " + set.id() + " holds"),
            std::string::npos)
      << out;
  EXPECT_EQ(Backup("db2", 0, &out).status(), v1::SET_COMPLETE) << out;
  sql("UPDATE sets SET verify_result = 'VERIFIED' WHERE id = '" + set.id() +
      "'");

  // verify --deep finds a catalog that no longer matches what is stored.
  ASSERT_EQ(testing::RunCommand(
                {"sqlite3", "-cmd", ".timeout 5000", *work_ / "data/catalog.db",
                 "UPDATE artifacts SET external_id = 'other' "
                 "WHERE set_id = '" +
                     set.id() + "'"},
                &out),
            0)
      << out;
  EXPECT_NE(cli_->Run({"verify", set.id(), "--deep"}, &out), 0) << out;
  EXPECT_NE(out.find("names backup 20261201231500, catalog says other"),
            std::string::npos)
      << out;
}

TEST_F(DatabaseMembersTest, AnExternalRestoreCommandIsGivenTheBackupsId) {
  std::string out;
  const v1::BackupSet set = Backup("db2auto", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;
  ASSERT_EQ(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_EQ(testing::ReadFile(*work_ / "db2auto.restored"), "SCN-4242\n");
  EXPECT_EQ(testing::ReadFile(*work_ / "db2auto.stdin"), "SCN-4242\n");
  // Its restores end by themselves: there is nothing to finish.
  EXPECT_NE(cli_->Run({"restore", set.id(), "--post-hooks-only"}, &out), 0);
  EXPECT_NE(out.find("has no external database restored by hand"),
            std::string::npos)
      << out;
}

TEST_F(DatabaseMembersTest, AFailingExternalBackupFailsTheSetWithItsStderr) {
  std::string out;
  const v1::BackupSet set = Backup("db2fail", 1, &out);
  EXPECT_EQ(set.status(), v1::SET_FAILED);
  EXPECT_NE(set.reason().find("db/wpsdb"), std::string::npos) << set.reason();
  EXPECT_NE(set.reason().find("SQL1035N The database is currently in use"),
            std::string::npos)
      << set.reason();
}

TEST_F(DatabaseMembersTest, ADumpFromAStandbyIsRefusedUnlessAllowed) {
  std::string out;
  ASSERT_EQ(standby_->StartStandbyOf(*pg_, &out), 0) << out;
  const v1::BackupSet refused = Backup("standby", 1, &out);
  EXPECT_EQ(refused.status(), v1::SET_FAILED);
  EXPECT_NE(refused.reason().find("is a standby (pg_is_in_recovery() is true)"),
            std::string::npos)
      << refused.reason();
  EXPECT_NE(refused.reason().find("allow_standby: true"), std::string::npos)
      << refused.reason();
  EXPECT_EQ(cli_->Json<v1::SetDetail>({"show", refused.id()}).artifacts_size(),
            0);
  EXPECT_EQ(Backup("standbyok", 0, &out).status(), v1::SET_COMPLETE) << out;
}

TEST_F(DatabaseMembersTest,
       ADumpRecordsItsServerVersionAnotherMajorNeedsForce) {
  std::string out;
  const v1::BackupSet set = Backup("streamed", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << out;
  ASSERT_EQ(
      pg_->Run({"psql", "-Atc", "SHOW server_version_num", "-d", "postgres"},
               &out),
      0)
      << out;
  const int server_version = std::stoi(out);
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  ASSERT_EQ(detail.artifacts_size(), 1);
  EXPECT_EQ(detail.artifacts(0).pg_server_version(), server_version);
  ASSERT_EQ(cli_->Run({"show", set.id()}, &out), 0) << out;
  EXPECT_NE(out.find("POSTGRESQL: db/ledger was dumped from PostgreSQL " +
                     std::to_string(server_version / 10000) + "."),
            std::string::npos)
      << out;

  // As if it had been dumped from DX's PostgreSQL 11, before CF220.
  ASSERT_EQ(testing::RunCommand(
                {"sqlite3", "-cmd", ".timeout 5000", *work_ / "data/catalog.db",
                 "UPDATE artifacts SET pg_server_version = 110022 WHERE "
                 "set_id = '" +
                     set.id() + "'"},
                &out),
            0)
      << out;
  EXPECT_NE(
      cli_->Run({"restore", set.id(), "--database-to", "ledger_v11"}, &out), 0)
      << out;
  EXPECT_NE(out.find("db/ledger was dumped from PostgreSQL 11.22 and would go "
                     "into " +
                     std::to_string(server_version / 10000) + "."),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("--force-pg-version"), std::string::npos) << out;
  EXPECT_NE(out.find("nothing was restored"), std::string::npos) << out;
  ASSERT_EQ(pg_->Run({"psql", "-Atc",
                      "SELECT count(*) FROM pg_database WHERE datname = "
                      "'ledger_v11'",
                      "-d", "postgres"},
                     &out),
            0);
  EXPECT_EQ(out, "0\n");
  ASSERT_EQ(cli_->Run({"restore", set.id(), "--database-to", "ledger_v11",
                       "--force-pg-version"},
                      &out),
            0)
      << out;
  EXPECT_EQ(PlainDump("ledger_v11"), PlainDump("ledger"));
}

TEST_F(DatabaseMembersTest, ThePasswordFromEnvFilesStaysOutOfLogsAndCatalog) {
  std::string out;
  ASSERT_EQ(Backup("ledger", 0, &out).status(), v1::SET_COMPLETE) << out;
  const std::string password = testing::ReadFile(pg_->password_file());
  ASSERT_GE(password.size(), 8u);
  for (const char* file : {"scheduler.log", "scheduler.yaml", "data/catalog.db",
                           "data/catalog.db-wal"}) {
    if (!fs::exists(*work_ / file)) continue;
    EXPECT_EQ(testing::ReadFile(*work_ / file).find(password),
              std::string::npos)
        << file;
  }
}

}  // namespace
}  // namespace dxbackup
