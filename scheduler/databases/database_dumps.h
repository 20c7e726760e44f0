// A set's database members, whatever their engine: a PostgreSQL database
// (pg_dump and pg_restore, scheduler/postgres) or a `discover` entry's
// server globals (pg_dumpall, psql; its databases are PostgreSQL ones, see
// discovered_databases.h), a `command` one (its own
// dump tool, command_dump.h) or an `external` one (a reference to the
// DBA's own backup, external_backup.h). The runners and the stored-set readers
// ask here, never the engines directly.
//
// Thread-compatible: each dump or restore runs its own processes.
#ifndef DXBACKUP_SCHEDULER_DATABASES_DATABASE_DUMPS_H_
#define DXBACKUP_SCHEDULER_DATABASES_DATABASE_DUMPS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "dxbackup/v1/config.pb.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

// Whether the artifact is a database member's (a dump of any kind, a
// server's globals, or an external backup's reference).
bool IsDatabaseDump(const v1::Artifact& artifact);

// What a new set stores for `db`: its artifact kind and file name (in the
// set's directory), and its source as shown (no password, no argument).
v1::ArtifactKind DumpKindOf(const v1::Database& db);
v1::Compression DumpCompressionOf(const v1::Database& db);
std::string DumpFileName(const v1::Database& db);
std::string DescribeAnyDatabase(const v1::Database& db);

// What a dump says about itself, recorded on its artifact.
struct DumpFacts {
  std::string external_id;        // an external database's backup
  int pg_server_version = 0;      // the PostgreSQL server a dump came from
  std::string pg_database_owner;  // a PostgreSQL database's owner
  // A PostgreSQL database's own settings (pg_database_settings.h).
  std::optional<v1::PgDatabaseSettings> pg_database_settings;
};

// Dumps `db` into `out` (not committed); the tool's stderr in *log.
absl::Status DumpAnyDatabase(const v1::Database& db, PendingArtifact* out,
                             std::string* log, DumpFacts* facts);
// `facts` on the artifact that stores the dump.
void RecordDumpFacts(const DumpFacts& facts, v1::Artifact* artifact);

// What a restore of `artifact` into `db` must hold before anything is
// written: for a PostgreSQL dump, a reachable server of the major version
// it was dumped from (or `force_pg_version`); see CheckRestoreServer.
absl::Status CheckDatabaseRestore(const v1::Database& db,
                                  const v1::Artifact& artifact,
                                  bool force_pg_version);

// Restores `artifact`, whose stored plaintext `plain` yields, into `db`
// (`into`: restore --database-to, empty over the original). `spool_dir`:
// where a PostgreSQL dump may be written whole for pg_restore --jobs (see
// RestoreDatabase); empty streams it.
absl::Status RestoreAnyDatabase(const v1::Database& db,
                                const v1::Artifact& artifact,
                                ArtifactReader& plain, const std::string& into,
                                const std::string& spool_dir, std::string* log);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_DATABASES_DATABASE_DUMPS_H_
