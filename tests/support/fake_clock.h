// A Clock that tests set by hand (starts at 2027-01-15 08:00:00 UTC).
#ifndef DXBACKUP_TESTS_SUPPORT_FAKE_CLOCK_H_
#define DXBACKUP_TESTS_SUPPORT_FAKE_CLOCK_H_

#include <chrono>

#include "common/clock.h"

namespace dxbackup::testing {

class FakeClock : public common::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return now; }
  std::chrono::system_clock::time_point now =
      std::chrono::system_clock::from_time_t(1800000000);
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_FAKE_CLOCK_H_
