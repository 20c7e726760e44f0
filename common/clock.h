// Clock is how business logic reads the time, so that tests can drive it.
// Implementations must be thread-safe.
#ifndef DXBACKUP_COMMON_CLOCK_H_
#define DXBACKUP_COMMON_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace dxbackup::common {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  int64_t NowUnix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               Now().time_since_epoch())
        .count();
  }
};

class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_CLOCK_H_
