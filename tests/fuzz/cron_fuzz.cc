// libFuzzer: any schedule string either parses or is refused, and a parsed
// schedule's Next() always moves forward.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "scheduler/policy/cron_schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  auto schedule = dxbackup::scheduler::CronSchedule::Parse(spec, "fuzz/key");
  if (!schedule.ok()) return 0;
  absl::Time t = absl::FromUnixSeconds(1798761600);  // 2027-01-01
  for (int i = 0; i < 8; ++i) {
    const absl::Time next = schedule->Next(t);
    if (next <= t) __builtin_trap();
    if (next == absl::InfiniteFuture()) break;
    t = next;
  }
  return 0;
}
