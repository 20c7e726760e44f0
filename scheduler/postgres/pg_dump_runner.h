// Database capture and recovery with PostgreSQL's own tools.
//
// DumpDatabase streams `pg_dump -Fc` of a configured database straight into
// a PendingArtifact: no staging copy. It checks the server's version with
// libpq first and picks a pg_dump that can dump it. The password reaches
// pg_dump through its environment only.
//
// RestoreDatabase runs pg_restore on a stored dump, read from `dump` as it
// goes (piped into pg_restore's stdin), either into a new
// database (`into` non-empty; it must not exist) or over the original the
// way the DX procedure does: connection limit 0, terminate sessions, drop,
// create with the same owner, restore, connection limit back.
//
// Both put the tools' stderr in *log.
#ifndef DXBACKUP_SCHEDULER_POSTGRES_PG_DUMP_RUNNER_H_
#define DXBACKUP_SCHEDULER_POSTGRES_PG_DUMP_RUNNER_H_

#include <string>

#include "absl/status/status.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

absl::Status DumpDatabase(const v1::Database& db, PendingArtifact* out,
                          std::string* log);

absl::Status RestoreDatabase(const v1::Database& db, ArtifactReader& dump,
                             const std::string& into, std::string* log);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POSTGRES_PG_DUMP_RUNNER_H_
