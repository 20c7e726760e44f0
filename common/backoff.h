// Backoff yields the delays between retries: exponential from `initial` up
// to `max`, with up to 20% jitter so that a fleet does not retry in step.
// Reset() after a success. Not thread-safe.
#ifndef DXBACKUP_COMMON_BACKOFF_H_
#define DXBACKUP_COMMON_BACKOFF_H_

#include <chrono>
#include <random>

namespace dxbackup::common {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);
  std::chrono::milliseconds Next();
  void Reset();

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;
  std::minstd_rand rng_;
};

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_BACKOFF_H_
