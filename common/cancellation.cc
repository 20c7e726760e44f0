#include "common/cancellation.h"

#include <vector>

namespace dxbackup::common {
namespace {
thread_local Cancellation* bound = nullptr;
}  // namespace

void Cancellation::Cancel(const std::string& why) {
  std::unique_lock<std::mutex> lock(mu_);
  if (cancelled_) return;
  cancelled_ = true;
  why_ = why;
  runner_ = std::this_thread::get_id();
  // One at a time, each unregistered before it runs: Remove waits only for
  // the one running.
  while (!callbacks_.empty()) {
    auto first = callbacks_.begin();
    running_ = first->first;
    Callback callback = std::move(first->second);
    callbacks_.erase(first);
    lock.unlock();
    callback(why);
    lock.lock();
    running_ = 0;
    idle_cv_.notify_all();  // a Remove of this one returns now
  }
}

bool Cancellation::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

std::string Cancellation::why() const {
  std::lock_guard<std::mutex> lock(mu_);
  return why_;
}

uint64_t Cancellation::OnCancel(Callback callback) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t handle = next_handle_++;
  if (!cancelled_) {
    callbacks_.emplace(handle, std::move(callback));
    return handle;
  }
  const std::string why = why_;
  lock.unlock();
  callback(why);
  return handle;
}

void Cancellation::Remove(uint64_t handle) {
  std::unique_lock<std::mutex> lock(mu_);
  callbacks_.erase(handle);
  if (runner_ == std::this_thread::get_id()) return;  // from a callback
  idle_cv_.wait(lock, [&] { return running_ != handle; });
}

Cancellation* Cancellation::Current() { return bound; }

CancellationScope::CancellationScope(Cancellation* cancel) : previous_(bound) {
  bound = cancel;
}

CancellationScope::~CancellationScope() { bound = previous_; }

}  // namespace dxbackup::common
