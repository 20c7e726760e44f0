// Database capture and recovery with PostgreSQL's own tools.
//
// DumpDatabase streams `pg_dump -Fc --compress=0` of a configured database,
// compressed with zstd on a thread of its own, straight into a
// PendingArtifact: no staging copy. (zstd at level 1 takes about a third of
// the CPU of pg_dump's own gzip at level 1, for a smaller dump; the artifact
// is `<db>.pgdump.zst`, compression ZSTD.) It checks the server's version
// with libpq first and picks a pg_dump that can dump it, and refuses a
// standby (DX's procedure dumps on the primary). The password reaches
// pg_dump through its environment only.
//
// RestoreDatabase runs pg_restore on a stored dump, read from `dump` (see
// PgRestoreInput), either into a new database (`into` non-empty; it must
// not exist) or over the original the way the DX procedure does:
// connection limit 0, terminate sessions, drop, create with the same
// owner, restore, connection limit back. With the database's restore_jobs
// above 1 and a `spool_dir`, the dump is first written whole to a file
// there (before anything in the server is touched; removed after) and
// restored with pg_restore --jobs; otherwise it is piped into
// pg_restore's stdin as it is read.
//
// Both put the tools' stderr in *log.
#ifndef DXBACKUP_SCHEDULER_POSTGRES_PG_DUMP_RUNNER_H_
#define DXBACKUP_SCHEDULER_POSTGRES_PG_DUMP_RUNNER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "dxbackup/v1/config.pb.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/postgres/pg_connection.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

// FailedPrecondition when `conn` is to a standby (pg_is_in_recovery())
// and `db` does not allow_standby.
absl::Status RefuseStandby(PgConnection& conn, const v1::Database& db);

// What DumpDatabase learnt of the database it dumped.
struct PgDumpSource {
  int server_version = 0;           // server_version_num
  std::string owner;                // the database's owner
  v1::PgDatabaseSettings settings;  // its own settings (pg_database_settings.h)
};

// Refuses a standby unless db.allow_standby (FailedPrecondition).
absl::Status DumpDatabase(const v1::Database& db, PendingArtifact* out,
                          std::string* log, PgDumpSource* source);

// Before a restore writes anything: FailedPrecondition when `dump` was
// taken from a server of another major version than the one it would go
// to, unless `force`; the connection's error when that server cannot be
// reached. OK for a dump that recorded no version (sets taken before).
absl::Status CheckRestoreServer(const v1::Database& db,
                                const v1::Artifact& dump, bool force);

// The major version of a server_version_num: 16 of 160004, 9.6 as 906.
int PgMajorVersion(int server_version);

// What pg_restore reads of a dump artifact whose stored plaintext `plain`
// yields: its zstd stream decompressed (compression ZSTD), or `plain` as it
// is (sets taken before dumps were zstd, in pg_dump's own gzip). `plain`
// must outlive the result.
std::unique_ptr<ArtifactReader> PgRestoreInput(const v1::Artifact& dump,
                                               ArtifactReader* plain);

// `recorded_owner`: the database's owner when dumped, given to a
// database the server lacks (FailedPrecondition when the role is missing
// too); "" leaves it to the connecting role. `settings` (null for a dump
// that predates them): the database's own settings when dumped, put on
// the restored database once pg_restore succeeded.
absl::Status RestoreDatabase(const v1::Database& db, ArtifactReader& dump,
                             const std::string& into,
                             const std::string& recorded_owner,
                             const v1::PgDatabaseSettings* settings,
                             const std::string& spool_dir, std::string* log);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POSTGRES_PG_DUMP_RUNNER_H_
