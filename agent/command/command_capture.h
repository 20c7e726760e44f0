// RunCommandCapture runs a CommandCapture's command in the agent's pod (a
// `command` database's dump tool or an `external` member's backup trigger
// whose config names this agent's component) and streams its stdout, as it
// comes, through an UploadStream into the job's artifact: zstd at the
// command's level, or as printed (COMPRESSION_NONE). Returns the
// scheduler's receipt once the artifact is stored.
//
// The command runs without a shell, with the agent's environment plus the
// command's env and env_files (files in this pod, read now). It fails —
// the upload cancelled, so nothing is stored — on a non-zero exit, on no
// output at all, on more than max_bytes of output, past its
// timeout_seconds, or when `running` kills all (the command is killed
// then), each error naming the member and carrying the command's stderr.
// `running` (may be null) and `time` (the timeout's clock) must outlive
// the call. *log gets that stderr either way; values read from env_files
// are masked in it.
//
// Thread-compatible: each call runs its own process and upload.
#ifndef DXBACKUP_AGENT_COMMAND_COMMAND_CAPTURE_H_
#define DXBACKUP_AGENT_COMMAND_COMMAND_CAPTURE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "agent/backup/upload_stream.h"
#include "agent/command/command_process.h"
#include "common/time_source.h"
#include "dxbackup/v1/agent.pb.h"

namespace dxbackup::agent {

// The stdout tail a capture's trailer carries.
constexpr size_t kStdoutTailBytes = 4096;

absl::StatusOr<v1::UploadResult> RunCommandCapture(
    const v1::CommandCapture& command,
    const UploadStream::StubFactory& new_upload_stub,
    const UploadStream::Options& options,
    const UploadStream::ProgressFn& on_progress, RunningCommands* running,
    const common::TimeSource& time, std::string* log);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_COMMAND_COMMAND_CAPTURE_H_
