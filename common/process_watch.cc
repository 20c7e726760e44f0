#include "common/process_watch.h"

#include <sys/wait.h>

#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"

namespace dxbackup::common {

ProcessWatch::ProcessWatch(Subprocess* process, int timeout_seconds,
                           const TimeSource& time)
    : process_(process) {
  reaper_ = std::thread([this] {
    siginfo_t info;
    while (waitid(P_PID, process_->pid(), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!done_) process_->Kill();  // a zombie's group: safe
    exited_ = true;
    cv_.notify_all();
  });
  cancel_ = Cancellation::Current();
  if (cancel_ != nullptr) {
    cancel_handle_ = cancel_->OnCancel([this](const std::string& why) {
      Kill(why.empty() ? "cancelled" : why);
    });
  }
  if (timeout_seconds > 0) {
    watchdog_ = std::thread([this, timeout_seconds, &time] {
      std::unique_lock<std::mutex> lock(mu_);
      if (!time.WaitFor(lock, cv_, std::chrono::seconds(timeout_seconds),
                        [this] { return exited_ || done_; })) {
        lock.unlock();
        Kill(absl::StrCat("timed out after ", timeout_seconds, " s"));
      }
    });
  }
}

absl::StatusOr<int> ProcessWatch::Wait() {
  // The reaper returns once the child exited (not yet reaped: a Kill until
  // `done_` reaches a zombie, never a reused process id).
  if (reaper_.joinable()) reaper_.join();
  StopListening();
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  return process_->Wait();
}

ProcessWatch::~ProcessWatch() {
  if (reaper_.joinable()) {
    Kill("stopped");  // never waited for: it must end before its threads
    reaper_.join();
  }
  StopListening();
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void ProcessWatch::StopListening() {
  if (cancel_ != nullptr) cancel_->Remove(cancel_handle_);
  cancel_ = nullptr;
}

void ProcessWatch::Kill(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (done_ || !killed_.empty()) return;
  killed_ = why;
  process_->Kill();
}

std::string ProcessWatch::killed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return killed_;
}

}  // namespace dxbackup::common
