#include "tests/support/fake_time_source.h"

#include <vector>

namespace dxbackup::testing {

std::chrono::system_clock::time_point FakeTimeSource::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wall_;
}

common::TimeSource::MonotonicTime FakeTimeSource::Monotonic() const {
  std::lock_guard<std::mutex> lock(mu_);
  return monotonic_;
}

bool FakeTimeSource::WaitUntil(std::unique_lock<std::mutex>& lock,
                               std::condition_variable& cv,
                               MonotonicTime deadline,
                               const std::function<bool()>& done) const {
  for (;;) {
    if (done()) return true;
    auto waiter = std::make_shared<Waiter>();
    {
      std::lock_guard<std::mutex> own(mu_);
      if (monotonic_ >= deadline) return false;
      *waiter = Waiter{lock.mutex(), &cv, deadline, round_};
      waiters_.insert(waiter);
      changed_.notify_all();
    }
    // Registered while `lock` is held: Advance() takes that mutex before it
    // notifies, so it cannot notify between here and the wait.
    cv.wait(lock);
    // Advance() may still be about to take the caller's mutex: release it,
    // and return only once Advance() no longer holds this waiter.
    lock.unlock();
    {
      std::unique_lock<std::mutex> own(mu_);
      waiters_.erase(waiter);
      changed_.wait(own, [&] { return waiter->notifying == 0; });
      changed_.notify_all();
    }
    lock.lock();
  }
}

void FakeTimeSource::SleepUntil(MonotonicTime deadline) const {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  WaitUntil(lock, cv, deadline, [] { return false; });
}

uint64_t FakeTimeSource::Advance(std::chrono::nanoseconds by, size_t* woken) {
  std::vector<std::shared_ptr<Waiter>> due;
  uint64_t round;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wall_ +=
        std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
    monotonic_ += by;
    round = ++round_;
    for (const auto& w : waiters_) {
      if (w->deadline <= monotonic_) {
        ++w->notifying;
        due.push_back(w);
      }
    }
  }
  if (woken != nullptr) *woken = due.size();
  for (const auto& w : due) {
    std::lock_guard<std::mutex> lock(*w->mu);
    w->cv->notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& w : due) --w->notifying;
    changed_.notify_all();
  }
  return round;
}

bool FakeTimeSource::AwaitWaiters(size_t count, uint64_t round) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, std::chrono::minutes(1), [&] {
    size_t n = 0;
    for (const auto& w : waiters_) n += w->round >= round ? 1 : 0;
    return n >= count;
  });
}

size_t FakeTimeSource::waiters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.size();
}

}  // namespace dxbackup::testing
