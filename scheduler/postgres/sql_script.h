// A SQL script as psql reads it (pg_dumpall's output): its statements,
// split where psql would split them, and the role a statement is about.
//
// The scanner knows what may hide a ';' or a line break: 'strings' (with
// E'...' backslash escapes), "quoted identifiers", $tag$dollar quotes$tag$,
// -- line and /* nested */ block comments. A backslash at the start of a
// statement begins a psql meta-command, which ends with its line
// (\connect, \restrict). Pure functions; thread-safe.
#ifndef DXBACKUP_SCHEDULER_POSTGRES_SQL_SCRIPT_H_
#define DXBACKUP_SCHEDULER_POSTGRES_SQL_SCRIPT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace dxbackup::scheduler {

// Each statement with its ';' (a meta-command: its line), in order, with
// the whitespace and comments before it; text after the last one that is
// not only whitespace is a last statement of its own.
std::vector<std::string> SplitSqlScript(absl::string_view script);

// The role `statement` creates or changes: CREATE ROLE, ALTER ROLE,
// COMMENT ON ROLE or SECURITY LABEL ... ON ROLE, followed by the role's
// name as the server spells it (a "quoted" name unquoted, a bare one in
// lower case). "" for any other statement (GRANT, SET, ...).
std::string RoleOfStatement(absl::string_view statement);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POSTGRES_SQL_SCRIPT_H_
