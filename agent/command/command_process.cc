#include "agent/command/command_process.h"

#include "absl/strings/str_cat.h"
#include "common/command_env.h"

namespace dxbackup::agent {

void RunningCommands::Open() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_.clear();
}

void RunningCommands::KillAll(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = why;
  for (RunningCommand* command : commands_) command->Kill(why);
}

absl::StatusOr<std::unique_ptr<RunningCommand>> RunningCommand::Start(
    const CommandSpec& spec, RunningCommands* running,
    const common::TimeSource& time) {
  if (spec.argv->empty() || (*spec.argv)[0].empty()) {
    return absl::InvalidArgumentError(absl::StrCat(spec.what, " is empty"));
  }
  auto variables =
      common::CommandEnvironment(*spec.env, *spec.env_files, spec.owner);
  if (!variables.ok()) return variables.status();
  common::ProcessSpec process;
  process.argv.assign(spec.argv->begin(), spec.argv->end());
  process.env = *std::move(variables);
  process.stream_stdout = spec.stream_stdout;
  process.stream_stdin = spec.stream_stdin;
  auto started = common::Subprocess::Start(process);
  if (!started.ok()) {
    return absl::Status(
        started.status().code(),
        absl::StrCat(spec.what, ": ", started.status().message()));
  }
  std::unique_ptr<RunningCommand> command(new RunningCommand);
  RunningCommand* self = command.get();
  self->process_ = *std::move(started);
  self->watch_ = std::make_unique<common::ProcessWatch>(
      self->process_.get(), spec.timeout_seconds, time);
  self->env_ = std::move(process.env);
  self->running_ = running;
  if (running != nullptr) {
    std::lock_guard<std::mutex> lock(running->mu_);
    running->commands_.insert(self);
    // The connection ended while it started: nobody waits for it.
    if (!running->closed_.empty()) self->Kill(running->closed_);
  }
  return command;
}

absl::StatusOr<int> RunningCommand::Wait() { return watch_->Wait(); }

RunningCommand::~RunningCommand() {
  if (running_ != nullptr) {
    std::lock_guard<std::mutex> lock(running_->mu_);
    running_->commands_.erase(this);
  }
  watch_.reset();  // kills a command never waited for, joins its threads
}

}  // namespace dxbackup::agent
