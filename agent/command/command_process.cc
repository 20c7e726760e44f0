#include "agent/command/command_process.h"

#include "absl/strings/str_cat.h"
#include "common/command_env.h"

namespace dxbackup::agent {

absl::StatusOr<StartedCommand> StartCommand(
    const std::string& what,
    const google::protobuf::RepeatedPtrField<std::string>& argv,
    const google::protobuf::Map<std::string, std::string>& env,
    const google::protobuf::Map<std::string, std::string>& env_files,
    const std::string& owner, bool stream_stdout, bool stream_stdin) {
  if (argv.empty() || argv[0].empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  auto variables = common::CommandEnvironment(env, env_files, owner);
  if (!variables.ok()) return variables.status();
  common::ProcessSpec spec;
  spec.argv.assign(argv.begin(), argv.end());
  spec.env = *std::move(variables);
  spec.stream_stdout = stream_stdout;
  spec.stream_stdin = stream_stdin;
  auto process = common::Subprocess::Start(spec);
  if (!process.ok()) {
    return absl::Status(process.status().code(),
                        absl::StrCat(what, ": ", process.status().message()));
  }
  return StartedCommand{*std::move(process), std::move(spec.env)};
}

}  // namespace dxbackup::agent
