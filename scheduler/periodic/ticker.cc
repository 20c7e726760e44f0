#include "scheduler/periodic/ticker.h"

#include <algorithm>

namespace dxbackup::scheduler {

void Ticker::Start() { thread_ = std::thread(&Ticker::Loop, this); }

void Ticker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Ticker::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Ticker::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    // Monotonic first: if time moves during the tick, the deadline counts
    // from before the move, so the wait ends at once and the moved time
    // gets a tick of its own.
    const common::TimeSource::MonotonicTime started = time_->Monotonic();
    const absl::Time now = absl::FromChrono(time_->Now());
    absl::Duration wait = kLongestWait;
    for (PeriodicTask* task : tasks_) task->Run(now);
    for (const PeriodicTask* task : tasks_) {
      wait = std::min(wait, task->NextDue(now) - now);
    }
    const auto deadline = started + absl::ToChronoNanoseconds(
                                        std::max(wait, absl::ZeroDuration()));
    lock.lock();
    time_->WaitUntil(lock, cv_, deadline,
                     [this] { return stopping_ || woken_; });
  }
}

}  // namespace dxbackup::scheduler
