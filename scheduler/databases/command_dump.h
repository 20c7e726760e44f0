// A `command` database (config DumpCommand): any engine's own streaming
// dump tool. DumpWithCommand stores the dump command's stdout as the
// artifact (zstd, through RunProcessInto); RestoreWithCommand runs the
// restore command with the dump on its stdin. Both fail, with the
// command's stderr, on a non-zero exit; a dump that wrote nothing fails
// too. The commands run without a shell, with the scheduler's environment
// plus `env` and `env_files` (secret files, read at each run, never
// logged; see common/secret_file.h) and, for a
// restore, DXBACKUP_DATABASE and DXBACKUP_DATABASE_TO.
//
// Thread-compatible: each call runs its own process.
#ifndef DXBACKUP_SCHEDULER_DATABASES_COMMAND_DUMP_H_
#define DXBACKUP_SCHEDULER_DATABASES_COMMAND_DUMP_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/command_env.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

absl::Status DumpWithCommand(const v1::Database& db, PendingArtifact* out,
                             std::string* log);

// `dump` is the plaintext (decompressed) dump; `into` is
// `restore --database-to`, empty over the original.
absl::Status RestoreWithCommand(const v1::Database& db, ArtifactReader& dump,
                                const std::string& into, std::string* log);

// CommandEnvironment and WithoutSecrets (common/command_env.h), and the
// environment of a command database's commands.
using common::CommandEnvironment;
using common::WithoutSecrets;
absl::StatusOr<std::map<std::string, std::string>> CommandEnvironment(
    const v1::Database& db);

// The error of `command` ("the dump command of ...") that ended badly:
// DEADLINE_EXCEEDED when it was killed (`killed` says why: its
// timeout_seconds), else INTERNAL with its exit `code`; its stderr after.
absl::Status CommandEndedBadly(const std::string& command,
                               const std::string& killed, int code,
                               const std::string& stderr_text);

// "command database NAME (PROGRAM)", for sources and errors; no argument
// beyond the program's name (arguments may hold what should not be shown).
std::string DescribeCommandDatabase(const v1::Database& db);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_DATABASES_COMMAND_DUMP_H_
