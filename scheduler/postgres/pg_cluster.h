// What a PostgreSQL server holds beyond any one database, for a `discover`
// database entry: the list of its databases, and its globals (roles and
// role memberships; not tablespaces) dumped with `pg_dumpall
// --globals-only` and put back with psql.
//
// Each call opens its own connection or runs its own tool with the
// entry's connection fields, connecting to the entry's dbname or, when it
// has none, to the maintenance database `postgres`. The password reaches
// the tools through their environment only. Thread-compatible.
#ifndef DXBACKUP_SCHEDULER_POSTGRES_PG_CLUSTER_H_
#define DXBACKUP_SCHEDULER_POSTGRES_PG_CLUSTER_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

// "every database of host=... port=... user=...": for messages, no secrets.
std::string DescribeServer(const v1::Database& entry);

// The server's databases that accept connections and are no template nor
// invalid (a DROP DATABASE cut short) nor a restore drill's scratch one
// (dxdrill_...), by name (as the server spells them: not
// yet checked as names).
absl::StatusOr<std::vector<std::string>> ListServerDatabases(
    const v1::Database& entry);

// `pg_dumpall --globals-only` of the entry's server into `out` (zstd, not
// committed), by a pg_dumpall of the server's major version or newer;
// refuses a standby unless entry.allow_standby, as DumpDatabase does. Its
// stderr in *log, the server's server_version_num in *server_version.
absl::Status DumpGlobals(const v1::Database& entry, PendingArtifact* out,
                         std::string* log, int* server_version);

// Puts the roles of globals script `sql` (decompressed) back on the
// entry's server, in its maintenance database `postgres`: the roles it
// lacks, with their attributes, passwords and comments, and every role
// membership, in one transaction stopped at the first error (then no role
// is changed). A role the server has already is left as it is (its
// password included: the restoring role's, and live applications').
absl::Status RestoreGlobals(const v1::Database& entry, ArtifactReader& sql,
                            std::string* log);

// `script` without its statements about `existing_roles` (CREATE ROLE,
// ALTER ROLE, COMMENT ON ROLE, SECURITY LABEL ON ROLE; see sql_script.h).
std::string GlobalsToRestore(absl::string_view script,
                             const std::set<std::string>& existing_roles);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POSTGRES_PG_CLUSTER_H_
