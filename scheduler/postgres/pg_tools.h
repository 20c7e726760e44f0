// Finds a pg_dump, pg_restore, pg_dumpall or psql that can work with a given
// server: one of the same major version or newer (pg_dump refuses older
// servers' successors and newer servers). Looks at a configured path first,
// then /usr/lib/postgresql/*/bin (Debian's layout, preferring the lowest major
// that is new enough), then PATH.
#ifndef DXBACKUP_SCHEDULER_POSTGRES_PG_TOOLS_H_
#define DXBACKUP_SCHEDULER_POSTGRES_PG_TOOLS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dxbackup::scheduler {

struct PgTool {
  std::string path;
  std::string version;  // "15.18"
  int major = 0;
};

// Parses "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)".
absl::StatusOr<PgTool> ParsePgToolVersion(const std::string& path,
                                          const std::string& output);

// `tool` is "pg_dump", "pg_restore", "pg_dumpall" or "psql"; `server_version`
// as PQserverVersion. `search_dirs` replaces the default search (for tests).
// The error names the tool's and the server's versions and what to install.
absl::StatusOr<PgTool> FindPgTool(
    const std::string& tool, int server_version,
    const std::string& configured_path,
    const std::vector<std::string>* search_dirs = nullptr);

// The path of `tool` in the directory of a configured `pg_dump_path`
// (pg_restore, psql and pg_dumpall come with it); "" when none is
// configured.
std::string PgToolBeside(const std::string& pg_dump_path,
                         const std::string& tool);

// The newest installed `tool`, for reading dumps of any version.
absl::StatusOr<PgTool> FindNewestPgTool(const std::string& tool);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POSTGRES_PG_TOOLS_H_
