// RunCommandRestore runs a CommandRestore's command in the agent's pod with
// the job's stored artifact on its stdin: downloaded (Download part 0),
// checked against the command's length and SHA-256, and a zstd stream
// decompressed on the way (ReadAheadSource). The command runs without a
// shell, with the agent's environment plus the command's env (the
// scheduler puts DXBACKUP_DATABASE, DXBACKUP_DATABASE_TO and, for an
// external backup, DXBACKUP_EXTERNAL_ID there) and env_files (files in
// this pod, read now).
//
// Fails on a broken or corrupt stream, on a non-zero exit with the
// command's stderr, and when it is killed (past its timeout_seconds, or by
// `running`'s KillAll; `running` may be null, `time` is the timeout's
// clock); *log gets that stderr either way, env_files' values
// masked. A command that stops reading early is fed no more, but the rest
// of the stream is still read, so that its digest is checked.
//
// Thread-compatible: each call runs its own process and download.
#ifndef DXBACKUP_AGENT_COMMAND_COMMAND_RESTORE_H_
#define DXBACKUP_AGENT_COMMAND_COMMAND_RESTORE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "agent/command/command_process.h"
#include "common/time_source.h"
#include "dxbackup/v1/agent.grpc.pb.h"

namespace dxbackup::agent {

absl::Status RunCommandRestore(
    const v1::CommandRestore& command, v1::AgentService::StubInterface* stub,
    const std::function<void(uint64_t bytes)>& on_progress,
    RunningCommands* running, const common::TimeSource& time, std::string* log);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_COMMAND_COMMAND_RESTORE_H_
