#include "agent/command/command_process.h"

#include <sys/wait.h>

#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/command_env.h"

namespace dxbackup::agent {

void RunningCommands::KillAll(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
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
  command->process_ = *std::move(started);
  command->env_ = std::move(process.env);
  command->running_ = running;
  if (running != nullptr) {
    std::lock_guard<std::mutex> lock(running->mu_);
    running->commands_.insert(command.get());
  }
  if (spec.timeout_seconds > 0) {
    RunningCommand* self = command.get();
    const int timeout = spec.timeout_seconds;
    command->watchdog_ = std::thread([self, timeout, &time] {
      std::unique_lock<std::mutex> lock(self->mu_);
      if (!time.WaitFor(lock, self->cv_, std::chrono::seconds(timeout),
                        [self] { return self->done_; })) {
        lock.unlock();
        self->Kill(absl::StrCat("timed out after ", timeout, " s"));
      }
    });
  }
  return command;
}

RunningCommand::~RunningCommand() {
  if (running_ != nullptr) {
    std::lock_guard<std::mutex> lock(running_->mu_);
    running_->commands_.erase(this);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

absl::StatusOr<int> RunningCommand::Wait() {
  // Exited but not yet reaped: a Kill until `done_` reaches a zombie, never
  // a reused process id.
  siginfo_t info;
  while (waitid(P_PID, process_->pid(), &info, WEXITED | WNOWAIT) < 0 &&
         errno == EINTR) {
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  return process_->Wait();
}

void RunningCommand::Kill(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (done_ || !killed_.empty()) return;
  killed_ = why;
  process_->Kill();
}

std::string RunningCommand::killed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return killed_;
}

}  // namespace dxbackup::agent
