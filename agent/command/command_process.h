// StartCommand starts a configured command in the agent's pod, the way
// both command jobs do: argv without a shell, the agent's environment plus
// `env` and `env_files` (files in this pod, read now), stdout or stdin
// streamed as the spec asks. `what` names the command in errors ("the
// command of db/jcr"); an empty argv is InvalidArgument, an unreadable
// env file FailedPrecondition naming it.
//
// Thread-compatible.
#ifndef DXBACKUP_AGENT_COMMAND_COMMAND_PROCESS_H_
#define DXBACKUP_AGENT_COMMAND_COMMAND_PROCESS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/process.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace dxbackup::agent {

struct StartedCommand {
  std::unique_ptr<common::Subprocess> process;
  // The variables it was given (to mask env_files' values in its output).
  std::map<std::string, std::string> env;
};

absl::StatusOr<StartedCommand> StartCommand(
    const std::string& what,
    const google::protobuf::RepeatedPtrField<std::string>& argv,
    const google::protobuf::Map<std::string, std::string>& env,
    const google::protobuf::Map<std::string, std::string>& env_files,
    const std::string& owner, bool stream_stdout, bool stream_stdin);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_COMMAND_COMMAND_PROCESS_H_
