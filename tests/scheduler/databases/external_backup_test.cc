// An `external` database's backup and restore, with real processes (sh)
// and an in-memory store: the identifier recorded, what is stored, what
// the restore command is given, and what a restore by hand is told.
#include "scheduler/databases/external_backup.h"

#include <gtest/gtest.h>

#include <string>

#include "scheduler/databases/database_dumps.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"
#include "tests/support/string_reader.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

v1::Database ExternalDatabase(std::vector<std::string> backup,
                              std::vector<std::string> restore = {}) {
  v1::Database db;
  db.set_name("wpsdb");
  for (std::string& arg : backup) db.mutable_external()->add_backup(arg);
  for (std::string& arg : restore) db.mutable_external()->add_restore(arg);
  return db;
}

// Runs the backup through DumpAnyDatabase into `store`; the status, with
// the stored text in *stored when it was stored.
absl::Status Backup(const v1::Database& db, testing::MemoryStore& store,
                    std::string* stored, std::string* id, std::string* log) {
  auto pending = store.Begin("ns/dx/s1/wpsdb.external.txt");
  if (!pending.ok()) return pending.status();
  DumpFacts facts;
  absl::Status s = DumpAnyDatabase(db, pending->get(), log, &facts);
  *id = facts.external_id;
  if (!s.ok()) return s;
  if (absl::Status c = (*pending)->Commit(""); !c.ok()) return c;
  auto object = store.Open("ns/dx/s1/wpsdb.external.txt");
  if (!object.ok()) return object.status();
  return ForEachChunk(**object, [&](const char* data, size_t n) {
    stored->append(data, n);
    return absl::OkStatus();
  });
}

TEST(ExternalBackupTest, TheLastLinePrintedIsTheIdentifierAndTheOutputIsKept) {
  testing::TempDir dir;
  testing::WriteFile(dir / "secret", "db2pw\n");
  v1::Database db = ExternalDatabase(
      {"sh", "-c",
       "echo \"backing up $DB with ${#PW} characters of password\" >&2; "
       "echo 'Backup successful. The timestamp for this backup image is : "
       "20261201231500'; echo ' 20261201231500 '; echo"});
  (*db.mutable_external()->mutable_env())["DB"] = "WPSDB";
  (*db.mutable_external()->mutable_env_files())["PW"] = dir / "secret";
  testing::MemoryStore store;
  std::string stored, id, log;
  absl::Status s = Backup(db, store, &stored, &id, &log);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(id, "20261201231500");  // the last non-blank line, trimmed
  EXPECT_NE(stored.find("The timestamp for this backup image is"),
            std::string::npos);
  // env as given; env_files read, less their trailing newline.
  EXPECT_EQ(log, "backing up WPSDB with 5 characters of password\n");
  EXPECT_EQ(DumpKindOf(db), v1::ARTIFACT_EXTERNAL_BACKUP);
  EXPECT_EQ(DumpCompressionOf(db), v1::COMPRESSION_NONE);
  EXPECT_EQ(DumpFileName(db), "wpsdb.external.txt");
}

TEST(ExternalBackupTest, ASecretTheCommandEchoesStaysOutOfTheLog) {
  testing::TempDir dir;
  testing::WriteFile(dir / "secret", "db2-pw-42\n");
  v1::Database db = ExternalDatabase(
      {"sh", "-c",
       "echo \"connect as db2inst1 using $PW\" >&2; echo 20261201"});
  (*db.mutable_external()->mutable_env_files())["PW"] = dir / "secret";
  testing::MemoryStore store;
  std::string stored, id, log;
  ASSERT_TRUE(Backup(db, store, &stored, &id, &log).ok());
  EXPECT_EQ(log, "connect as db2inst1 using [env_files PW]\n");
}

TEST(ExternalBackupTest, AFailedOrSilentBackupCommandFailsSayingWhy) {
  testing::MemoryStore store;
  std::string stored, id, log;
  absl::Status failed =
      Backup(ExternalDatabase({"sh", "-c",
                               "echo 20261201; echo 'SQL1035N The database is "
                               "currently in use' >&2; exit 4"}),
             store, &stored, &id, &log);
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal);
  EXPECT_NE(failed.message().find("the backup command of external database "
                                  "wpsdb (sh) exited with status 4: SQL1035N"),
            std::string::npos)
      << failed;
  absl::Status silent =
      Backup(ExternalDatabase({"sh", "-c", "echo 'only a log' >&2"}), store,
             &stored, &id, &log);
  EXPECT_EQ(silent.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(silent.message().find("printed no identifier"), std::string::npos)
      << silent;
  EXPECT_NE(silent.message().find("only a log"), std::string::npos) << silent;
}

TEST(ExternalBackupTest, ACommandPrintingTheBackupItselfIsStoppedAndRefused) {
  testing::MemoryStore store;
  std::string stored, id, log;
  // Would print 64 MiB: stopped past the limit, not held in memory.
  absl::Status big = Backup(
      ExternalDatabase({"sh", "-c", "head -c 67108864 /dev/zero; echo id"}),
      store, &stored, &id, &log);
  EXPECT_EQ(big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(big.message().find("printed more than 1048576 bytes and was "
                               "stopped"),
            std::string::npos)
      << big;
  absl::Status control =
      Backup(ExternalDatabase({"sh", "-c", "printf 'SCN\\0334242\\n'"}), store,
             &stored, &id, &log);
  EXPECT_EQ(control.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(control.message().find("not printable ASCII"), std::string::npos)
      << control;
}

TEST(ExternalBackupTest, TheRestoreCommandIsGivenTheIdentifierAndTheOutput) {
  testing::TempDir dir;
  v1::Database db = ExternalDatabase(
      {"true"}, {"sh", "-c",
                 "cat > \"$OUT\"; echo \"$DXBACKUP_EXTERNAL_ID "
                 "$DXBACKUP_DATABASE to:$DXBACKUP_DATABASE_TO\" >> \"$OUT\""});
  (*db.mutable_external()->mutable_env())["OUT"] = dir / "restored";
  v1::Artifact artifact;
  artifact.set_set_id("s1");
  artifact.set_target("db/wpsdb");
  artifact.set_kind(v1::ARTIFACT_EXTERNAL_BACKUP);
  artifact.set_external_id("20261201231500");
  testing::StringReader stored("log\n20261201231500\n", 4);
  std::string log;
  absl::Status s = RestoreAnyDatabase(db, artifact, stored, "", "", &log);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(testing::ReadFile(dir / "restored"),
            "log\n20261201231500\n20261201231500 wpsdb to:\n");
  EXPECT_FALSE(RestoredByHand(db));
}

TEST(ExternalBackupTest, WithoutARestoreCommandTheOperatorIsToldWhatToRestore) {
  v1::Database db = ExternalDatabase({"db2-online-backup.sh"});
  v1::Artifact artifact;
  artifact.set_set_id("20261201T231500Z-ab12");
  artifact.set_target("db/wpsdb");
  artifact.set_kind(v1::ARTIFACT_EXTERNAL_BACKUP);
  artifact.set_external_id("20261201231500");
  testing::StringReader stored("20261201231500\n", 4);
  std::string log;
  absl::Status s = RestoreAnyDatabase(db, artifact, stored, "", "", &log);
  EXPECT_TRUE(RestoredByHand(db));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("restore external database wpsdb "
                             "(db2-online-backup.sh) by hand from its backup "
                             "20261201231500"),
            std::string::npos)
      << s;
}

TEST(ExternalBackupTest, TheIdentifierIsTheLastNonBlankLine) {
  EXPECT_EQ(ExternalIdentifier(""), "");
  EXPECT_EQ(ExternalIdentifier("\n \n"), "");
  EXPECT_EQ(ExternalIdentifier("a\nb"), "b");
  EXPECT_EQ(ExternalIdentifier("a\n\tSCN 4242\r\n\n"), "SCN 4242");
}

}  // namespace
}  // namespace dxbackup::scheduler
