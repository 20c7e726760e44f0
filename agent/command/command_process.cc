#include "agent/command/command_process.h"

#include <sys/wait.h>

#include <cerrno>
#include <chrono>

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
  self->env_ = std::move(process.env);
  self->running_ = running;
  // Once the command itself exits, whatever it left running in its group
  // goes too: a leftover holding its stdout or stderr would keep the job
  // waiting for ever.
  self->reaper_ = std::thread([self] {
    siginfo_t info;
    while (waitid(P_PID, self->process_->pid(), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
    std::lock_guard<std::mutex> lock(self->mu_);
    if (!self->done_) self->process_->Kill();  // a zombie's group: safe
    self->exited_ = true;
    self->cv_.notify_all();
  });
  if (spec.timeout_seconds > 0) {
    const int timeout = spec.timeout_seconds;
    self->watchdog_ = std::thread([self, timeout, &time] {
      std::unique_lock<std::mutex> lock(self->mu_);
      if (!time.WaitFor(lock, self->cv_, std::chrono::seconds(timeout),
                        [self] { return self->exited_; })) {
        lock.unlock();
        self->Kill(absl::StrCat("timed out after ", timeout, " s"));
      }
    });
  }
  if (running != nullptr) {
    std::lock_guard<std::mutex> lock(running->mu_);
    running->commands_.insert(self);
    // The connection ended while it started: nobody waits for it.
    if (!running->closed_.empty()) self->Kill(running->closed_);
  }
  return command;
}

absl::StatusOr<int> RunningCommand::Wait() {
  // The reaper returns once the command exited (not yet reaped: a Kill
  // until `done_` reaches a zombie, never a reused process id).
  if (reaper_.joinable()) reaper_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  return process_->Wait();
}

RunningCommand::~RunningCommand() {
  if (running_ != nullptr) {
    std::lock_guard<std::mutex> lock(running_->mu_);
    running_->commands_.erase(this);
  }
  if (reaper_.joinable()) {
    Kill("stopped");  // never waited for: it must end before its threads
    reaper_.join();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
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
