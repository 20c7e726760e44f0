#include "scheduler/databases/external_backup.h"

#include <unistd.h>

#include <cerrno>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/process.h"
#include "common/process_watch.h"
#include "common/time_source.h"
#include "scheduler/databases/command_dump.h"
#include "scheduler/store/artifact_pipe.h"

namespace dxbackup::scheduler {
namespace {

// "the WHICH command of external database NAME (PROGRAM)" ended badly.
absl::Status ExternalCommandFailed(const v1::Database& db,
                                   const std::string& which,
                                   const std::string& killed, int code,
                                   const std::string& stderr_text) {
  return CommandEndedBadly(
      absl::StrCat("the ", which, " command of ", DescribeExternalDatabase(db)),
      killed, code, stderr_text);
}

absl::StatusOr<std::map<std::string, std::string>> ExternalEnvironment(
    const v1::Database& db) {
  return CommandEnvironment(db.external().env(), db.external().env_files(),
                            DescribeExternalDatabase(db));
}

}  // namespace

std::string DescribeExternalDatabase(const v1::Database& db) {
  const std::string program =
      db.external().backup().empty() ? "" : db.external().backup(0);
  return absl::StrCat("external database ", db.name(), " (", program, ")");
}

std::string ExternalIdentifier(absl::string_view stdout_text) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(stdout_text, '\n', absl::SkipWhitespace());
  if (lines.empty()) return "";
  return std::string(absl::StripAsciiWhitespace(lines.back()));
}

bool RestoredByHand(const v1::Database& db) {
  return db.external().restore().empty();
}

absl::Status CheckExternalIdentifier(absl::string_view id) {
  if (id.size() > kMaxExternalIdentifierBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("its last line has ", id.size(), " bytes; at most ",
                     kMaxExternalIdentifierBytes, " are kept"));
  }
  for (const char c : id) {
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "its last line holds a byte that is not printable ASCII (it "
          "reaches restore commands' environments and RESTORE.txt)");
    }
  }
  return absl::OkStatus();
}

absl::Status RunExternalBackup(const v1::Database& db, PendingArtifact* out,
                               std::string* log, std::string* identifier) {
  auto env = ExternalEnvironment(db);
  if (!env.ok()) return env.status();
  common::ProcessSpec spec;
  spec.argv.assign(db.external().backup().begin(),
                   db.external().backup().end());
  spec.env = *std::move(env);
  spec.stream_stdout = true;
  auto started = common::Subprocess::Start(spec);
  if (!started.ok()) {
    return absl::Status(
        started.status().code(),
        absl::StrCat("the backup command of ", DescribeExternalDatabase(db),
                     ": ", started.status().message()));
  }
  common::Subprocess& child = **started;
  common::ProcessWatch watch(&child, db.external().timeout_seconds(),
                             common::RealTime());
  // Read at most one byte past the limit: a command that writes the
  // backup itself to stdout is stopped, not held in memory.
  std::string printed;
  char buffer[16384];
  for (;;) {
    const ssize_t n = read(child.stdout_fd(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    printed.append(buffer, static_cast<size_t>(n));
    if (printed.size() > kMaxExternalOutputBytes) {
      child.Kill();
      break;
    }
  }
  absl::StatusOr<int> exit_code = watch.Wait();
  if (!exit_code.ok()) return exit_code.status();
  *log =
      WithoutSecrets(child.stderr_text(), spec.env, db.external().env_files());
  if (printed.size() > kMaxExternalOutputBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the backup command of ", DescribeExternalDatabase(db),
        " printed more than ", kMaxExternalOutputBytes,
        " bytes and was stopped; it is to print the backup's identifier "
        "(its last line), not the backup: send its log to stderr"));
  }
  if (!watch.killed().empty() || *exit_code != 0) {
    return ExternalCommandFailed(db, "backup", watch.killed(), *exit_code,
                                 *log);
  }
  *identifier = ExternalIdentifier(printed);
  if (identifier->empty()) {
    return absl::DataLossError(absl::StrCat(
        "the backup command of ", DescribeExternalDatabase(db),
        " printed no identifier; it must print the database backup's "
        "timestamp, tag, SCN or LSN as the last line of its stdout",
        log->empty() ? "" : ". Its stderr: ", *log));
  }
  if (absl::Status s = CheckExternalIdentifier(*identifier); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the backup command of ", DescribeExternalDatabase(db),
                     " printed an unusable identifier: ", s.message()));
  }
  return out->Append(printed.data(), printed.size());
}

absl::Status RestoreExternalBackup(const v1::Database& db,
                                   const v1::Artifact& artifact,
                                   ArtifactReader& stored,
                                   const std::string& into, std::string* log) {
  if (RestoredByHand(db)) {
    return absl::FailedPreconditionError(
        absl::StrCat("restore ", DescribeExternalDatabase(db),
                     " by hand from its backup ", artifact.external_id(),
                     " (the config has no external.restore command)"));
  }
  auto env = ExternalEnvironment(db);
  if (!env.ok()) return env.status();
  common::ProcessSpec spec;
  spec.argv.assign(db.external().restore().begin(),
                   db.external().restore().end());
  spec.env = *std::move(env);
  spec.env["DXBACKUP_EXTERNAL_ID"] = artifact.external_id();
  spec.env["DXBACKUP_DATABASE"] = db.name();
  spec.env["DXBACKUP_DATABASE_TO"] = into;
  auto result =
      RunProcessReading(spec, stored, db.external().timeout_seconds());
  if (!result.ok()) {
    return absl::Status(
        result.status().code(),
        absl::StrCat("the restore command of ", DescribeExternalDatabase(db),
                     ": ", result.status().message()));
  }
  *log =
      WithoutSecrets(result->stderr_text, spec.env, db.external().env_files());
  if (!result->killed.empty() || result->exit_code != 0) {
    return ExternalCommandFailed(db, "restore", result->killed,
                                 result->exit_code, *log);
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
