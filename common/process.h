// Subprocess runs a program without a shell: argv is passed as is, secrets
// go only through `env`. The child's stdout is read as a stream or collected
// whole; its stderr is collected (the last kStderrKeepBytes) for error
// reports. With stream_stdin the child's stdin is a pipe fed through
// WriteStdin(); otherwise it reads /dev/null.
//
//   ProcessSpec spec{{"pg_dump", "-Fc"}, {{"PGPASSWORD", pw}}};
//   auto proc = Subprocess::Start(spec);
//   while ((n = read((*proc)->stdout_fd(), buf, sizeof buf)) > 0) ...
//   absl::StatusOr<int> exit_code = (*proc)->Wait();
//
// Thread-compatible: one owner drives a Subprocess. The destructor kills and
// reaps a child that is still running.
#ifndef DXBACKUP_COMMON_PROCESS_H_
#define DXBACKUP_COMMON_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace dxbackup::common {

struct ProcessSpec {
  std::vector<std::string> argv;
  // Added to (or replacing in) the parent's environment.
  std::map<std::string, std::string> env;
  // Read end of the child's stdout is offered through stdout_fd(); when
  // false, stdout is collected like stderr.
  bool stream_stdout = false;
  // The child's stdin is a pipe written with WriteStdin(); when false, the
  // child reads /dev/null.
  bool stream_stdin = false;
};

class Subprocess {
 public:
  static constexpr size_t kStderrKeepBytes = 64 * 1024;

  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const ProcessSpec& spec);
  ~Subprocess();

  // Read end of the child's stdout; valid while stream_stdout was set and
  // until Wait() returns.
  int stdout_fd() const { return stdout_fd_; }
  pid_t pid() const { return pid_; }

  // Writes all of `data` to the child's stdin (stream_stdin). A child that
  // closed its stdin gives FailedPrecondition, never a SIGPIPE.
  absl::Status WriteStdin(const void* data, size_t size);
  // End of input for the child; Wait() does it too.
  void CloseStdin();

  // Waits for the child to exit. Returns its exit code, or 128+signal when a
  // signal ended it.
  absl::StatusOr<int> Wait();
  // Sends SIGKILL to a running child and everything it started (the child
  // leads a process group of its own); Wait() still reaps it.
  void Kill();

  // The tail of the child's stderr, and all of its stdout when not
  // streamed; complete once Wait() has returned.
  const std::string& stderr_text() const { return stderr_text_; }
  const std::string& stdout_text() const { return stdout_text_; }

 private:
  Subprocess() = default;

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stdin_fd_ = -1;
  bool reaped_ = false;
  std::thread stderr_reader_;
  std::thread stdout_reader_;
  std::string stderr_text_;
  std::string stdout_text_;
};

struct ProcessResult {
  int exit_code = -1;
  std::string stdout_text;
  std::string stderr_text;
  // Why it was killed (ProcessWatch::killed: "timed out after 60 s"); ""
  // when it ran to its end.
  std::string killed;
};

// Runs a program to completion, collecting its output. On a thread bound
// to a Cancellation (CancellationScope), it is killed when that fires.
absl::StatusOr<ProcessResult> RunProcess(const ProcessSpec& spec);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_PROCESS_H_
