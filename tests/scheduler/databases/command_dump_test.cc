// A `command` database's dump and restore, with real processes (sh, cat)
// and an in-memory store: what the commands are given, what is stored, and
// what a failure says.
#include "scheduler/databases/command_dump.h"

#include <gtest/gtest.h>

#include <string>

#include "scheduler/databases/database_dumps.h"
#include "scheduler/store/zstd_reader.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"
#include "tests/support/string_reader.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

v1::Database CommandDatabase(std::vector<std::string> dump,
                             std::vector<std::string> restore) {
  v1::Database db;
  db.set_name("jcr");
  for (std::string& arg : dump) db.mutable_command()->add_dump(arg);
  for (std::string& arg : restore) db.mutable_command()->add_restore(arg);
  return db;
}

// Runs DumpWithCommand into `store` as "jcr.dump.zst"; the status, with the
// decompressed artifact in *plain when it was stored.
absl::Status Dump(const v1::Database& db, testing::MemoryStore& store,
                  std::string* plain, std::string* log) {
  auto pending = store.Begin("ns/dx/s1/jcr.dump.zst");
  if (!pending.ok()) return pending.status();
  absl::Status s = DumpWithCommand(db, pending->get(), log);
  if (!s.ok()) return s;
  if (absl::Status c = (*pending)->Commit(""); !c.ok()) return c;
  auto stored = store.Open("ns/dx/s1/jcr.dump.zst");
  if (!stored.ok()) return stored.status();
  ZstdReader zstd(stored->get(), "jcr.dump.zst");
  return ForEachChunk(zstd, [&](const char* data, size_t n) {
    plain->append(data, n);
    return absl::OkStatus();
  });
}

TEST(CommandDumpTest, TheDumpCommandsStdoutIsStoredAsZstd) {
  testing::TempDir dir;
  testing::WriteFile(dir / "secret", "s3cr3t\n");
  v1::Database db = CommandDatabase(
      {"sh", "-c", "echo \"rows of $DB as $DBUSER:$DBPASS\"; echo warn >&2"},
      {"cat"});
  (*db.mutable_command()->mutable_env())["DB"] = "JCRDB";
  (*db.mutable_command()->mutable_env())["DBUSER"] = "db2inst1";
  (*db.mutable_command()->mutable_env_files())["DBPASS"] = dir / "secret";
  testing::MemoryStore store;
  std::string plain, log;
  absl::Status s = Dump(db, store, &plain, &log);
  ASSERT_TRUE(s.ok()) << s;
  // env as given; env_files read, less their trailing newline.
  EXPECT_EQ(plain, "rows of JCRDB as db2inst1:s3cr3t\n");
  EXPECT_EQ(log, "warn\n");
}

TEST(CommandDumpTest, AFailingOrSilentCommandIsAnErrorSayingSo) {
  testing::MemoryStore store;
  std::string plain, log;
  absl::Status failed = Dump(
      CommandDatabase(
          {"sh", "-c", "echo partial; echo 'ORA-01017' >&2; exit 2"}, {"cat"}),
      store, &plain, &log);
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal);
  EXPECT_NE(failed.message().find("the dump command of command database jcr "
                                  "(sh) exited with status 2: ORA-01017"),
            std::string::npos)
      << failed;
  absl::Status silent =
      Dump(CommandDatabase({"true"}, {"cat"}), store, &plain, &log);
  EXPECT_EQ(silent.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(silent.message().find("wrote nothing to its stdout"),
            std::string::npos)
      << silent;
}

TEST(CommandDumpTest, AnUnreadableEnvFileNamesTheVariableAndTheFile) {
  v1::Database db = CommandDatabase({"echo", "x"}, {"cat"});
  (*db.mutable_command()->mutable_env_files())["DB2PASSWORD"] =
      "/nonexistent/db2-password";
  auto env = CommandEnvironment(db);
  EXPECT_EQ(env.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(env.status().message().find("/nonexistent/db2-password"),
            std::string::npos);
  EXPECT_NE(env.status().message().find("DB2PASSWORD"), std::string::npos);
}

TEST(CommandDumpTest, ASecretTheCommandEchoesStaysOutOfTheLogAndError) {
  testing::TempDir dir;
  testing::WriteFile(dir / "secret", "s3cr3t-pw\n");
  v1::Database db = CommandDatabase(
      {"sh", "-c", "echo \"login failed for db2inst1/$DBPASS\" >&2; exit 8"},
      {"cat"});
  (*db.mutable_command()->mutable_env_files())["DBPASS"] = dir / "secret";
  testing::MemoryStore store;
  std::string plain, log;
  absl::Status failed = Dump(db, store, &plain, &log);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(log, "login failed for db2inst1/[env_files DBPASS]\n");
  EXPECT_EQ(failed.message().find("s3cr3t-pw"), std::string::npos) << failed;
  EXPECT_NE(failed.message().find("[env_files DBPASS]"), std::string::npos)
      << failed;
}

TEST(CommandDumpTest, TheRestoreCommandReadsTheDumpAndIsToldWhereItGoes) {
  testing::TempDir dir;
  v1::Database db =
      CommandDatabase({"echo"}, {"sh", "-c",
                                 "cat > \"$OUT\"; echo \"$DXBACKUP_DATABASE "
                                 "to:$DXBACKUP_DATABASE_TO\" >> \"$OUT\""});
  (*db.mutable_command()->mutable_env())["OUT"] = dir / "restored";
  testing::StringReader dump("the dump\n", 3);
  std::string log;
  absl::Status s = RestoreWithCommand(db, dump, "jcr_copy", &log);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(testing::ReadFile(dir / "restored"), "the dump\njcr to:jcr_copy\n");

  v1::Database failing = CommandDatabase(
      {"echo"}, {"sh", "-c", "cat > /dev/null; echo 'SQL0204N' >&2; exit 4"});
  testing::StringReader again("the dump\n", 3);
  absl::Status f = RestoreWithCommand(failing, again, "", &log);
  EXPECT_NE(f.message().find("the restore command of command database jcr "
                             "(sh) exited with status 4: SQL0204N"),
            std::string::npos)
      << f;
}

TEST(DatabaseDumpsTest, ADumpIsRestoredOnlyByTheKindThatTookIt) {
  v1::Database now_pg;
  now_pg.set_name("jcr");
  now_pg.set_dbname("jcr");
  v1::Artifact dump;
  dump.set_target("db/jcr");
  dump.set_kind(v1::ARTIFACT_COMMAND_DUMP);
  dump.set_compression(v1::COMPRESSION_ZSTD);
  testing::StringReader plain("", 1);
  std::string log;
  absl::Status s = RestoreAnyDatabase(now_pg, dump, plain, "", "", &log);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("db/jcr was dumped by a command"),
            std::string::npos)
      << s;
  EXPECT_TRUE(IsDatabaseDump(dump));
  EXPECT_EQ(DumpFileName(CommandDatabase({"d"}, {"r"})), "jcr.dump.zst");
  EXPECT_EQ(DumpFileName(now_pg), "jcr.pgdump.zst");
}

}  // namespace
}  // namespace dxbackup::scheduler
