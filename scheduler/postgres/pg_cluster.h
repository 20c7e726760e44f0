// What a PostgreSQL server holds beyond any one database, for a `discover`
// database entry: the list of its databases, and its globals (roles, role
// memberships, tablespaces) dumped with `pg_dumpall --globals-only` and
// put back with psql.
//
// Each call opens its own connection or runs its own tool with the
// entry's connection fields, connecting to the entry's dbname or, when it
// has none, to the maintenance database `postgres`. The password reaches
// the tools through their environment only. Thread-compatible.
#ifndef DXBACKUP_SCHEDULER_POSTGRES_PG_CLUSTER_H_
#define DXBACKUP_SCHEDULER_POSTGRES_PG_CLUSTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

// "every database of host=... port=... user=...": for messages, no secrets.
std::string DescribeServer(const v1::Database& entry);

// The server's databases that accept connections and are no template, by
// name (as the server spells them: not yet checked as names).
absl::StatusOr<std::vector<std::string>> ListServerDatabases(
    const v1::Database& entry);

// `pg_dumpall --globals-only` of the entry's server into `out` (zstd, not
// committed), by a pg_dumpall of the server's major version or newer;
// refuses a standby unless entry.allow_standby, as DumpDatabase does. Its
// stderr in *log, the server's server_version_num in *server_version.
absl::Status DumpGlobals(const v1::Database& entry, PendingArtifact* out,
                         std::string* log, int* server_version);

// Runs the globals script `sql` (decompressed) with psql on the entry's
// server, less the ALTER ROLE of the role it connects as (whose password
// is the configured one now). A role or tablespace that exists already
// (SQLSTATE 42710) is left as it is; any other error fails the restore
// with psql's stderr, after the statements before and after it ran (as
// `psql -f` of pg_dumpall's output does).
absl::Status RestoreGlobals(const v1::Database& entry, ArtifactReader& sql,
                            std::string* log);

// `script` without its lines that alter `role`'s attributes ("ALTER ROLE
// role WITH ...", the name bare or as `quoted_role`), each replaced by a
// comment saying so.
std::string WithoutRoleAttributes(const std::string& script,
                                  const std::string& role,
                                  const std::string& quoted_role);

// The errors of psql's stderr (run with VERBOSITY verbose) that are not
// "already exists" (42710), one per line; "" when there are none.
std::string UnexpectedPsqlErrors(const std::string& stderr_text);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POSTGRES_PG_CLUSTER_H_
