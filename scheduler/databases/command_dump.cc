#include "scheduler/databases/command_dump.h"

#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "scheduler/store/artifact_pipe.h"

namespace dxbackup::scheduler {
namespace {

// A command that ended badly: killed (`killed` says why: its
// timeout_seconds), or a non-zero exit `code`.
absl::Status CommandFailed(const v1::Database& db, const std::string& which,
                           const std::string& killed, int code,
                           const std::string& stderr_text) {
  // Named by its own program (DescribeCommandDatabase names the dump's).
  const auto& argv =
      which == "restore" ? db.command().restore() : db.command().dump();
  const std::string command =
      absl::StrCat("the ", which, " command of command database ", db.name(),
                   " (", argv.empty() ? "" : argv[0], ")");
  return CommandEndedBadly(command, killed, code, stderr_text);
}

}  // namespace

absl::Status CommandEndedBadly(const std::string& command,
                               const std::string& killed, int code,
                               const std::string& stderr_text) {
  const std::string tail = stderr_text.empty() ? "" : ": " + stderr_text;
  if (!killed.empty()) {
    return absl::DeadlineExceededError(
        absl::StrCat(command, " was stopped: ", killed, tail));
  }
  return absl::InternalError(
      absl::StrCat(command, " exited with status ", code, tail));
}

std::string DescribeCommandDatabase(const v1::Database& db) {
  const std::string program =
      db.command().dump().empty() ? "" : db.command().dump(0);
  return absl::StrCat("command database ", db.name(), " (", program, ")");
}

absl::StatusOr<std::map<std::string, std::string>> CommandEnvironment(
    const v1::Database& db) {
  return CommandEnvironment(db.command().env(), db.command().env_files(),
                            DescribeCommandDatabase(db));
}

absl::Status DumpWithCommand(const v1::Database& db, PendingArtifact* out,
                             std::string* log) {
  auto env = CommandEnvironment(db);
  if (!env.ok()) return env.status();
  common::ProcessSpec spec;
  spec.argv.assign(db.command().dump().begin(), db.command().dump().end());
  spec.env = *std::move(env);
  auto dumped = RunProcessInto(
      spec, db.compression_level() > 0 ? db.compression_level() : 1, out,
      db.command().timeout_seconds());
  if (!dumped.ok()) {
    return absl::Status(
        dumped.status().code(),
        absl::StrCat("the dump command of ", DescribeCommandDatabase(db), ": ",
                     dumped.status().message()));
  }
  *log =
      WithoutSecrets(dumped->stderr_text, spec.env, db.command().env_files());
  if (!dumped->killed.empty() || dumped->exit_code != 0) {
    return CommandFailed(db, "dump", dumped->killed, dumped->exit_code, *log);
  }
  if (dumped->bytes == 0) {
    return absl::DataLossError(absl::StrCat(
        "the dump command of ", DescribeCommandDatabase(db),
        " wrote nothing to its stdout; a dump command must write the dump "
        "there"));
  }
  return absl::OkStatus();
}

absl::Status RestoreWithCommand(const v1::Database& db, ArtifactReader& dump,
                                const std::string& into, std::string* log) {
  auto env = CommandEnvironment(db);
  if (!env.ok()) return env.status();
  common::ProcessSpec spec;
  spec.argv.assign(db.command().restore().begin(),
                   db.command().restore().end());
  spec.env = *std::move(env);
  spec.env["DXBACKUP_DATABASE"] = db.name();
  spec.env["DXBACKUP_DATABASE_TO"] = into;
  auto result = RunProcessReading(spec, dump, db.command().timeout_seconds());
  if (!result.ok()) {
    return absl::Status(
        result.status().code(),
        absl::StrCat("the restore command of ", DescribeCommandDatabase(db),
                     ": ", result.status().message()));
  }
  *log =
      WithoutSecrets(result->stderr_text, spec.env, db.command().env_files());
  if (!result->killed.empty() || result->exit_code != 0) {
    return CommandFailed(db, "restore", result->killed, result->exit_code,
                         *log);
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
