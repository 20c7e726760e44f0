#include "agent/hook_runner.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/process.h"

namespace dxbackup::agent {
namespace {
constexpr int kDefaultTimeoutSeconds = 120;
constexpr size_t kOutputTail = 2000;

std::string Tail(const std::string& text) {
  std::string t(absl::StripAsciiWhitespace(text));
  return t.size() > kOutputTail ? "..." + t.substr(t.size() - kOutputTail) : t;
}
}  // namespace

absl::Status RunHook(const v1::HookCommand& hook,
                     const common::TimeSource& time) {
  if (hook.command().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("hook ", hook.name(), " has no command"));
  }
  common::ProcessSpec spec;
  if (hook.shell()) {
    spec.argv = {"/bin/sh", "-c", hook.command(0)};
  } else {
    spec.argv.assign(hook.command().begin(), hook.command().end());
  }
  spec.env.insert(hook.env().begin(), hook.env().end());
  const int timeout = hook.timeout_seconds() > 0 ? hook.timeout_seconds()
                                                 : kDefaultTimeoutSeconds;

  auto proc = common::Subprocess::Start(spec);
  if (!proc.ok()) {
    return absl::Status(
        proc.status().code(),
        absl::StrCat("hook ", hook.name(), ": ", proc.status().message()));
  }
  // A watchdog kills the command once its time is up.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false, timed_out = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!time.WaitFor(lock, cv, std::chrono::seconds(timeout),
                      [&] { return done; })) {
      timed_out = true;
      (*proc)->Kill();
    }
  });
  absl::StatusOr<int> code = (*proc)->Wait();
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  const std::string output =
      Tail((*proc)->stdout_text() + (*proc)->stderr_text());
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("hook ", hook.name(), " timed out after ", timeout,
                     " s and was killed", output.empty() ? "" : ": ", output));
  }
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(
        absl::StrCat("hook ", hook.name(), " exited with status ", *code,
                     output.empty() ? "" : ": ", output));
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::agent
