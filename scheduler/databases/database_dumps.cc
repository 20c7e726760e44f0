#include "scheduler/databases/database_dumps.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "scheduler/databases/command_dump.h"
#include "scheduler/databases/external_backup.h"
#include "scheduler/postgres/pg_cluster.h"
#include "scheduler/postgres/pg_connection.h"
#include "scheduler/postgres/pg_dump_runner.h"

namespace dxbackup::scheduler {

bool IsDatabaseDump(const v1::Artifact& artifact) {
  return artifact.kind() == v1::ARTIFACT_PG_DUMP ||
         artifact.kind() == v1::ARTIFACT_COMMAND_DUMP ||
         artifact.kind() == v1::ARTIFACT_EXTERNAL_BACKUP ||
         artifact.kind() == v1::ARTIFACT_PG_GLOBALS;
}

v1::ArtifactKind DumpKindOf(const v1::Database& db) {
  if (db.has_external()) return v1::ARTIFACT_EXTERNAL_BACKUP;
  if (db.discover()) return v1::ARTIFACT_PG_GLOBALS;
  return db.has_command() ? v1::ARTIFACT_COMMAND_DUMP : v1::ARTIFACT_PG_DUMP;
}

v1::Compression DumpCompressionOf(const v1::Database& db) {
  return db.has_external() ? v1::COMPRESSION_NONE : v1::COMPRESSION_ZSTD;
}

std::string DumpFileName(const v1::Database& db) {
  if (db.has_external()) return absl::StrCat(db.name(), ".external.txt");
  if (db.discover()) return absl::StrCat(db.name(), ".globals.sql.zst");
  return absl::StrCat(db.name(),
                      db.has_command() ? ".dump.zst" : ".pgdump.zst");
}

std::string DescribeAnyDatabase(const v1::Database& db) {
  if (db.has_external()) return DescribeExternalDatabase(db);
  if (db.discover())
    return absl::StrCat("roles and grants of ", DescribeServer(db));
  return db.has_command() ? DescribeCommandDatabase(db) : DescribeDatabase(db);
}

absl::Status DumpAnyDatabase(const v1::Database& db, PendingArtifact* out,
                             std::string* log, DumpFacts* facts) {
  if (db.has_external()) {
    return RunExternalBackup(db, out, log, &facts->external_id);
  }
  if (db.discover()) {
    return DumpGlobals(db, out, log, &facts->pg_server_version);
  }
  if (db.has_command()) return DumpWithCommand(db, out, log);
  PgDumpSource source;
  absl::Status dumped = DumpDatabase(db, out, log, &source);
  facts->pg_server_version = source.server_version;
  facts->pg_database_owner = source.owner;
  facts->pg_database_settings = std::move(source.settings);
  return dumped;
}

void RecordDumpFacts(const DumpFacts& facts, v1::Artifact* artifact) {
  artifact->set_external_id(facts.external_id);
  artifact->set_pg_server_version(facts.pg_server_version);
  artifact->set_pg_database_owner(facts.pg_database_owner);
  if (facts.pg_database_settings.has_value()) {
    *artifact->mutable_pg_database_settings() = *facts.pg_database_settings;
  }
}

absl::Status CheckDatabaseRestore(const v1::Database& db,
                                  const v1::Artifact& artifact,
                                  bool force_pg_version) {
  if ((artifact.kind() != v1::ARTIFACT_PG_DUMP &&
       artifact.kind() != v1::ARTIFACT_PG_GLOBALS) ||
      DumpKindOf(db) != artifact.kind()) {
    return absl::OkStatus();  // other kinds: their tools decide
  }
  return CheckRestoreServer(db, artifact, force_pg_version);
}

absl::Status RestoreAnyDatabase(const v1::Database& db,
                                const v1::Artifact& artifact,
                                ArtifactReader& plain, const std::string& into,
                                const std::string& spool_dir,
                                std::string* log) {
  if (artifact.kind() != DumpKindOf(db)) {
    return absl::FailedPreconditionError(absl::StrCat(
        artifact.target(), " was dumped ",
        artifact.kind() == v1::ARTIFACT_EXTERNAL_BACKUP ? "by its own tooling"
        : artifact.kind() == v1::ARTIFACT_COMMAND_DUMP  ? "by a command"
        : artifact.kind() == v1::ARTIFACT_PG_GLOBALS    ? "with pg_dumpall"
                                                        : "with pg_dump",
        " but the config now has ", DescribeAnyDatabase(db),
        "; restore it with the config it was taken with"));
  }
  if (db.has_external()) {
    return RestoreExternalBackup(db, artifact, plain, into, log);
  }
  // Every dump reaches its restore tool decompressed.
  std::unique_ptr<ArtifactReader> input = PgRestoreInput(artifact, &plain);
  if (db.discover()) return RestoreGlobals(db, *input, log);
  return db.has_command()
             ? RestoreWithCommand(db, *input, into, log)
             : RestoreDatabase(db, *input, into, artifact.pg_database_owner(),
                               artifact.has_pg_database_settings()
                                   ? &artifact.pg_database_settings()
                                   : nullptr,
                               spool_dir, log);
}

}  // namespace dxbackup::scheduler
