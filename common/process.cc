#include "common/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/cancellation.h"
#include "common/process_watch.h"
#include "common/time_source.h"

extern char** environ;

namespace dxbackup::common {
namespace {

// Reads fd to EOF, keeping the last `keep` bytes in *out, then closes it.
void DrainInto(int fd, std::string* out, size_t keep) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > 2 * keep) out->erase(0, out->size() - keep);
  }
  if (out->size() > keep) out->erase(0, out->size() - keep);
  close(fd);
}

std::vector<std::string> BuildEnvironment(
    const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (overrides.count(key) == 0) env.push_back(entry);
  }
  for (const auto& [key, value] : overrides) env.push_back(key + "=" + value);
  return env;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    const ProcessSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("empty argv");
  int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      (spec.stream_stdin && pipe2(in_pipe, O_CLOEXEC) != 0)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (spec.stream_stdin) {
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);

  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = BuildEnvironment(spec.env);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  // The child starts with no signal blocked and default dispositions: our
  // daemons block SIGTERM for a signal thread and ignore SIGPIPE, and a hook
  // that starts a server must not pass that on (its server could never be
  // stopped).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  // A process group of its own, so that Kill() reaches what the child
  // started too: a shell hook's `sleep` would otherwise hold its output
  // pipe open, and Wait() with it, long after the shell was killed.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
  pid_t pid;
  int rc =
      posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spec.stream_stdin) close(in_pipe[0]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    if (spec.stream_stdin) close(in_pipe[1]);
    return absl::NotFoundError(
        absl::StrCat("cannot run ", spec.argv[0], ": ", std::strerror(rc)));
  }
  std::unique_ptr<Subprocess> proc(new Subprocess);
  proc->pid_ = pid;
  proc->stdin_fd_ = in_pipe[1];
  Subprocess* p = proc.get();
  int err_fd = err_pipe[0];
  p->stderr_reader_ = std::thread(
      [p, err_fd] { DrainInto(err_fd, &p->stderr_text_, kStderrKeepBytes); });
  if (spec.stream_stdout) {
    p->stdout_fd_ = out_pipe[0];
  } else {
    int out_fd = out_pipe[0];
    p->stdout_reader_ = std::thread([p, out_fd] {
      DrainInto(out_fd, &p->stdout_text_, std::string::npos / 4);
    });
  }
  return proc;
}

Subprocess::~Subprocess() {
  if (!reaped_) {
    Kill();
    (void)Wait();
  }
}

void Subprocess::Kill() {
  if (!reaped_ && pid_ > 0) kill(-pid_, SIGKILL);  // its whole group
}

absl::Status Subprocess::WriteStdin(const void* data, size_t size) {
  if (stdin_fd_ < 0) {
    return absl::FailedPreconditionError("the child's stdin is not a pipe");
  }
  // SIGPIPE, if the child is gone, would go to this thread: blocked here
  // and taken back below, so that EPIPE tells instead.
  sigset_t pipe_signal, previous;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  const char* p = static_cast<const char*>(data);
  int err = 0;
  while (size > 0) {
    ssize_t n = write(stdin_fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  if (err == EPIPE && !sigismember(&previous, SIGPIPE)) {
    const timespec no_wait = {0, 0};
    sigtimedwait(&pipe_signal, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (err == EPIPE) {
    return absl::FailedPreconditionError("the child closed its stdin");
  }
  if (err != 0) {
    return absl::InternalError(
        absl::StrCat("writing to the child: ", std::strerror(err)));
  }
  return absl::OkStatus();
}

void Subprocess::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

absl::StatusOr<int> Subprocess::Wait() {
  if (reaped_) return absl::FailedPreconditionError("process already reaped");
  CloseStdin();
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
  }
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  if (stderr_reader_.joinable()) stderr_reader_.join();
  if (stdout_reader_.joinable()) stdout_reader_.join();
  if (r < 0) {
    return absl::InternalError(absl::StrCat("waitpid: ", std::strerror(errno)));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

absl::StatusOr<ProcessResult> RunProcess(const ProcessSpec& spec) {
  ProcessSpec collected = spec;
  collected.stream_stdout = false;
  auto proc = Subprocess::Start(collected);
  if (!proc.ok()) return proc.status();
  // On a thread bound to a Cancellation, the child dies with its work.
  std::optional<ProcessWatch> watch;
  if (Cancellation::Current() != nullptr) {
    watch.emplace(proc->get(), /*timeout_seconds=*/0, RealTime());
  }
  (*proc)->CloseStdin();  // before the watch waits for the exit
  auto code = watch.has_value() ? watch->Wait() : (*proc)->Wait();
  if (!code.ok()) return code.status();
  return ProcessResult{*code, (*proc)->stdout_text(), (*proc)->stderr_text(),
                       watch.has_value() ? watch->killed() : ""};
}

}  // namespace dxbackup::common
