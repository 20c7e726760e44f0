#include "agent/command/command_restore.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "agent/command/command_process.h"
#include "agent/restore/download_source.h"
#include "agent/restore/read_ahead_source.h"
#include "common/command_env.h"

namespace dxbackup::agent {

absl::Status RunCommandRestore(
    const v1::CommandRestore& command, v1::AgentService::StubInterface* stub,
    const std::function<void(uint64_t bytes)>& on_progress, std::string* log) {
  const std::string what =
      absl::StrCat("the restore command of ", command.name());
  absl::StatusOr<StartedCommand> started = StartCommand(
      what, command.command(), command.env(), command.env_files(),
      command.name(), /*stream_stdout=*/false, /*stream_stdin=*/true);
  if (!started.ok()) return started.status();
  common::Subprocess* proc = started->process.get();
  const DownloadPart part{0, command.sha256(), command.bytes()};
  const std::function<void(uint64_t)> progress = on_progress;
  absl::Status stream;
  {
    DownloadSource download(stub, command.job_id(), part, progress);
    ReadAheadSource source(&download, [&download] { download.Cancel(); });
    bool feeding = true;
    for (;;) {
      absl::StatusOr<std::string_view> piece = source.Next();
      if (!piece.ok()) {
        stream = piece.status();
        break;
      }
      if (piece->empty()) break;
      // A command that closed its stdin is fed no more; its exit status
      // tells whether it had what it needed.
      if (feeding && !proc->WriteStdin(piece->data(), piece->size()).ok()) {
        feeding = false;
      }
    }
  }
  if (!stream.ok()) proc->Kill();
  proc->CloseStdin();
  absl::StatusOr<int> code = proc->Wait();
  *log = common::WithoutSecrets(proc->stderr_text(), started->env,
                                command.env_files());
  if (!stream.ok()) {
    return absl::Status(stream.code(),
                        absl::StrCat(command.name(), ": ", stream.message(),
                                     "; its restore command was stopped"));
  }
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(what, " exited with status ", *code,
                                            log->empty() ? "" : ": ", *log));
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::agent
