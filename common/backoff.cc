#include "common/backoff.h"

#include <algorithm>

namespace dxbackup::common {

Backoff::Backoff(std::chrono::milliseconds initial,
                 std::chrono::milliseconds max)
    : initial_(initial),
      max_(max),
      current_(initial),
      rng_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::Next() {
  std::chrono::milliseconds base = current_;
  current_ = std::min(max_, current_ * 2);
  std::uniform_int_distribution<long> jitter(0, base.count() / 5);
  return base + std::chrono::milliseconds(jitter(rng_));
}

void Backoff::Reset() { current_ = initial_; }

}  // namespace dxbackup::common
