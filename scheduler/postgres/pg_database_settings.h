// A PostgreSQL database's own settings, which live outside its catalog and
// which pg_dump's archive leaves to CREATE DATABASE: its encoding and
// locale (read here, given to CREATE DATABASE by the restore), ALTER
// DATABASE ... SET,
// ALTER ROLE ... IN DATABASE ... SET, its privileges (GRANT ... ON
// DATABASE: a REVOKE CONNECT FROM PUBLIC among them) and its comment. A
// restore creates the database anew, so without these it would come back
// with the server's defaults (an application's search_path gone, PUBLIC
// able to connect again).
//
//   v1::PgDatabaseSettings s = *ReadDatabaseSettings(pg);   // at the dump
//   ... the restore creates `target` and runs pg_restore into it ...
//   absl::Status put = ApplyDatabaseSettings(pg, s, target, &log);
//
// Thread-compatible: plain functions over one connection.
#ifndef DXBACKUP_SCHEDULER_POSTGRES_PG_DATABASE_SETTINGS_H_
#define DXBACKUP_SCHEDULER_POSTGRES_PG_DATABASE_SETTINGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/postgres/pg_connection.h"

namespace dxbackup::scheduler {

// The settings of `pg`'s current database.
absl::StatusOr<v1::PgDatabaseSettings> ReadDatabaseSettings(PgConnection& pg);

// The statements that put `settings` on database `target` (quoted with
// `pg`), as pg_dump writes them: a list setting's elements (search_path)
// each a literal; privileges revoked from PUBLIC and `owner` (its owner
// now) first, then granted as they were. InvalidArgument for a setting
// name or privilege that could not have come from a server's catalog.
// Settings and grants of a role in `missing_roles` are left out (the
// caller names them).
absl::StatusOr<std::vector<std::string>> DatabaseSettingsSql(
    const PgConnection& pg, const v1::PgDatabaseSettings& settings,
    const std::string& target, const std::string& owner,
    const std::vector<std::string>& missing_roles);

// Puts `settings` on `target`, over `pg` (a connection to its server);
// notes in *log what was left out (the settings and grants of roles the
// server lacks).
absl::Status ApplyDatabaseSettings(PgConnection& pg,
                                   const v1::PgDatabaseSettings& settings,
                                   const std::string& target, std::string* log);

// The elements of a list setting's value (search_path) as PostgreSQL's
// SplitGUCList reads them: comma-separated, blanks around them dropped,
// double-quoted ones with "" inside unquoted.
std::vector<std::string> SplitSettingList(const std::string& value);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POSTGRES_PG_DATABASE_SETTINGS_H_
