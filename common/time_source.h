// TimeSource is how code reads the time and waits for it, so that tests can
// drive both: wall time (Now(), from Clock) for what is recorded and
// scheduled, monotonic time for timeouts and rates, and the waits that end
// at a monotonic deadline. Code that waits on a condition variable with a
// timeout waits through WaitUntil, so that a simulated source can wake it
// when its time moves (tests/support/fake_time_source.h).
//
//   std::unique_lock<std::mutex> lock(mu_);
//   time->WaitUntil(lock, cv_, time->Monotonic() + tick,
//                   [this] { return stopping_; });
//
// Implementations are thread-safe. RealTime() lives for the whole process.
#ifndef DXBACKUP_COMMON_TIME_SOURCE_H_
#define DXBACKUP_COMMON_TIME_SOURCE_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "common/clock.h"

namespace dxbackup::common {

class TimeSource : public Clock {
 public:
  using MonotonicTime = std::chrono::steady_clock::time_point;

  virtual MonotonicTime Monotonic() const = 0;

  // Waits on `cv` (whose mutex `lock` holds) until `done()` is true or the
  // monotonic time reaches `deadline`; returns done(). Whoever makes done()
  // true notifies `cv` under the same mutex, as with any condition variable.
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock,
                         std::condition_variable& cv, MonotonicTime deadline,
                         const std::function<bool()>& done) const = 0;

  // Sleeps until the monotonic time reaches `deadline`.
  virtual void SleepUntil(MonotonicTime deadline) const = 0;

  template <typename Rep, typename Period>
  bool WaitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
               std::chrono::duration<Rep, Period> timeout,
               const std::function<bool()>& done) const {
    return WaitUntil(lock, cv, Monotonic() + timeout, done);
  }
};

// The machine's clocks.
class RealTimeSource : public TimeSource {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
  MonotonicTime Monotonic() const override {
    return std::chrono::steady_clock::now();
  }
  bool WaitUntil(std::unique_lock<std::mutex>& lock,
                 std::condition_variable& cv, MonotonicTime deadline,
                 const std::function<bool()>& done) const override {
    return cv.wait_until(lock, deadline, done);
  }
  void SleepUntil(MonotonicTime deadline) const override;
};

const TimeSource& RealTime();

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_TIME_SOURCE_H_
