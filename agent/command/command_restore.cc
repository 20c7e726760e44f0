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
    const std::function<void(uint64_t bytes)>& on_progress,
    RunningCommands* running, const common::TimeSource& time,
    std::string* log) {
  const std::string what =
      absl::StrCat("the restore command of ", command.name());
  CommandSpec spec{what,
                   command.name(),
                   &command.command(),
                   &command.env(),
                   &command.env_files(),
                   /*stream_stdout=*/false,
                   /*stream_stdin=*/true,
                   command.timeout_seconds()};
  auto started = RunningCommand::Start(spec, running, time);
  if (!started.ok()) return started.status();
  RunningCommand& cmd = **started;
  common::Subprocess* proc = &cmd.process();
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
  absl::StatusOr<int> code = cmd.Wait();
  *log = common::WithoutSecrets(proc->stderr_text(), cmd.env(),
                                command.env_files());
  if (const std::string killed = cmd.killed(); !killed.empty()) {
    return absl::DeadlineExceededError(absl::StrCat(
        what, " was stopped: ", killed, log->empty() ? "" : ": ", *log));
  }
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
