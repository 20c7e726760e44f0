#include "scheduler/databases/database_dumps.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "scheduler/databases/command_dump.h"
#include "scheduler/postgres/pg_connection.h"
#include "scheduler/postgres/pg_dump_runner.h"

namespace dxbackup::scheduler {

bool IsDatabaseDump(const v1::Artifact& artifact) {
  return artifact.kind() == v1::ARTIFACT_PG_DUMP ||
         artifact.kind() == v1::ARTIFACT_COMMAND_DUMP;
}

v1::ArtifactKind DumpKindOf(const v1::Database& db) {
  return db.has_command() ? v1::ARTIFACT_COMMAND_DUMP : v1::ARTIFACT_PG_DUMP;
}

std::string DumpFileName(const v1::Database& db) {
  return absl::StrCat(db.name(),
                      db.has_command() ? ".dump.zst" : ".pgdump.zst");
}

std::string DescribeAnyDatabase(const v1::Database& db) {
  return db.has_command() ? DescribeCommandDatabase(db) : DescribeDatabase(db);
}

absl::Status DumpAnyDatabase(const v1::Database& db, PendingArtifact* out,
                             std::string* log) {
  return db.has_command() ? DumpWithCommand(db, out, log)
                          : DumpDatabase(db, out, log);
}

absl::Status RestoreAnyDatabase(const v1::Database& db,
                                const v1::Artifact& artifact,
                                ArtifactReader& plain, const std::string& into,
                                const std::string& spool_dir,
                                std::string* log) {
  if (artifact.kind() != DumpKindOf(db)) {
    return absl::FailedPreconditionError(absl::StrCat(
        artifact.target(), " was dumped ",
        artifact.kind() == v1::ARTIFACT_COMMAND_DUMP ? "by a command"
                                                     : "with pg_dump",
        " but the config now has ", DescribeAnyDatabase(db),
        "; restore it with the config it was taken with"));
  }
  // Either kind's dump reaches its restore tool decompressed.
  std::unique_ptr<ArtifactReader> input = PgRestoreInput(artifact, &plain);
  return db.has_command() ? RestoreWithCommand(db, *input, into, log)
                          : RestoreDatabase(db, *input, into, spool_dir, log);
}

}  // namespace dxbackup::scheduler
