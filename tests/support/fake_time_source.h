// A TimeSource whose time moves only when a test says so: Advance() moves
// wall and monotonic time together and wakes every wait whose deadline it
// passed. AwaitWaiters() lets a test hold still until the code under test
// is waiting for time, so that a test never races the threads it drives:
//
//   FakeTimeSource time;
//   ... start code that waits on &time ...
//   const uint64_t round = time.Advance(std::chrono::seconds(61));
//   time.AwaitWaiters(1, round);  // the watchdog looked and waits again
//
// Thread-safe. An object that waits on it must not be destroyed while
// Advance() runs (a test calls both from its own thread).
#ifndef DXBACKUP_TESTS_SUPPORT_FAKE_TIME_SOURCE_H_
#define DXBACKUP_TESTS_SUPPORT_FAKE_TIME_SOURCE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>

#include "common/time_source.h"

namespace dxbackup::testing {

class FakeTimeSource : public common::TimeSource {
 public:
  // Starts at 2027-01-15 08:00:00 UTC, like FakeClock.
  FakeTimeSource() = default;

  std::chrono::system_clock::time_point Now() const override;
  MonotonicTime Monotonic() const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock,
                 std::condition_variable& cv, MonotonicTime deadline,
                 const std::function<bool()>& done) const override;
  void SleepUntil(MonotonicTime deadline) const override;

  // Moves time forward by `by` and wakes the waits it ended (how many in
  // `*woken`, when given). Returns the round: waits that begin from now
  // on belong to it.
  uint64_t Advance(std::chrono::nanoseconds by, size_t* woken = nullptr);

  // Blocks until at least `count` waits of round `round` or later are
  // waiting. False if none came within a minute of real time (a test
  // failure rather than a hang).
  bool AwaitWaiters(size_t count, uint64_t round = 0) const;

  size_t waiters() const;

 private:
  struct Waiter {
    std::mutex* mu;
    std::condition_variable* cv;
    MonotonicTime deadline;
    uint64_t round;
    int notifying = 0;  // Advance() holds its pointers while above zero
  };

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // waiters_ or notifying moved
  std::chrono::system_clock::time_point wall_ =
      std::chrono::system_clock::from_time_t(1800000000);
  MonotonicTime monotonic_{std::chrono::hours(1)};
  uint64_t round_ = 0;
  mutable std::set<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_FAKE_TIME_SOURCE_H_
