// A configured command running in the agent's pod, the way both command
// jobs run one: argv without a shell, the agent's environment plus `env`
// and `env_files` (files in this pod, read now), stdout or stdin streamed
// as asked. It is killed (with everything it started) when its time is up
// or when the RunningCommands it is registered with kills all — the
// control stream to the scheduler ended, so the scheduler has failed its
// job and nobody waits for it. Once it exits, what it left running in its
// process group is killed too (it would hold its output open): see
// common::ProcessWatch.
//
//   RunningCommands running;                       // one per agent session
//   auto cmd = RunningCommand::Start(spec, &running, time);
//   ... read (*cmd)->process().stdout_fd() ...; (*cmd)->Wait();
//   if (!(*cmd)->killed().empty()) ... it was stopped, and why
//
// Thread-safe: Kill and RunningCommands::KillAll from any thread; the
// rest from the thread that started the command.
#ifndef DXBACKUP_AGENT_COMMAND_COMMAND_PROCESS_H_
#define DXBACKUP_AGENT_COMMAND_COMMAND_PROCESS_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/process.h"
#include "common/process_watch.h"
#include "common/time_source.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace dxbackup::agent {

class RunningCommand;

// The commands an agent session runs now.
class RunningCommands {
 public:
  // A connection began: commands started from now on run.
  void Open();
  // Kills every registered command, and every one started until the next
  // Open(), saying `why`.
  void KillAll(const std::string& why);

 private:
  friend class RunningCommand;
  std::mutex mu_;
  std::set<RunningCommand*> commands_;
  std::string closed_;  // why, since KillAll; "" once opened
};

struct CommandSpec {
  std::string what;   // names it in errors: "the command of db/jcr"
  std::string owner;  // names the member in env_files errors: "db/jcr"
  const google::protobuf::RepeatedPtrField<std::string>* argv = nullptr;
  const google::protobuf::Map<std::string, std::string>* env = nullptr;
  const google::protobuf::Map<std::string, std::string>* env_files = nullptr;
  bool stream_stdout = false;
  bool stream_stdin = false;
  int timeout_seconds = 0;  // 0: no limit
};

class RunningCommand {
 public:
  // InvalidArgument for an empty argv, FailedPrecondition naming an
  // env file that cannot be read. `running` (may be null) and `time` must
  // outlive the command.
  static absl::StatusOr<std::unique_ptr<RunningCommand>> Start(
      const CommandSpec& spec, RunningCommands* running,
      const common::TimeSource& time);
  // Kills a command never waited for, and joins its threads.
  ~RunningCommand();
  RunningCommand(const RunningCommand&) = delete;
  RunningCommand& operator=(const RunningCommand&) = delete;

  common::Subprocess& process() { return *process_; }
  // Waits for it to exit (Subprocess::Wait); once it has, it is no longer
  // killed (its process id may be another's once reaped).
  absl::StatusOr<int> Wait();
  // The variables it was given (to mask env_files' values in its output).
  const std::map<std::string, std::string>& env() const { return env_; }

  void Kill(const std::string& why) { watch_->Kill(why); }
  // Why it was killed ("timed out after 600 s", ...); "" when it was not.
  std::string killed() const { return watch_->killed(); }

 private:
  RunningCommand() = default;

  std::unique_ptr<common::Subprocess> process_;
  std::unique_ptr<common::ProcessWatch> watch_;  // goes before process_
  std::map<std::string, std::string> env_;
  RunningCommands* running_ = nullptr;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_COMMAND_COMMAND_PROCESS_H_
