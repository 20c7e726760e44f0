#include "common/time_source.h"

#include <thread>

namespace dxbackup::common {

void RealTimeSource::SleepUntil(MonotonicTime deadline) const {
  std::this_thread::sleep_until(deadline);
}

const TimeSource& RealTime() {
  static const RealTimeSource* const source = new RealTimeSource;
  return *source;
}

}  // namespace dxbackup::common
