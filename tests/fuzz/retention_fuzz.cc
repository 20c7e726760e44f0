// libFuzzer: retention over arbitrary rules and sets never crashes, decides
// every set exactly once, and never removes the base of a kept set.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "scheduler/policy/retention.h"

using dxbackup::scheduler::ApplyRetention;
using dxbackup::scheduler::RetentionCandidate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  dxbackup::v1::Retention rules;
  rules.set_keep_last(static_cast<int8_t>(data[0]) % 5);
  rules.set_keep_daily(static_cast<int8_t>(data[1]) % 5);
  rules.set_keep_weekly(data[2] % 4);
  rules.set_keep_monthly(data[3] % 3);
  rules.set_keep_min_complete(data[4] % 3);
  rules.set_keep_within(data[5] % 2 ? "2d" : "");
  std::vector<RetentionCandidate> sets;
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  for (size_t i = 8; i + 2 < size && sets.size() < 64; i += 3) {
    RetentionCandidate c;
    c.id = "s" + std::to_string(sets.size());
    c.time = now - absl::Hours(data[i] * 7 + data[i + 1] % 7);
    c.state = static_cast<RetentionCandidate::State>(data[i + 2] % 3);
    if (!sets.empty() && data[i + 2] & 0x80) {
      c.base_id = sets[data[i + 1] % sets.size()].id;
    }
    sets.push_back(c);
  }
  auto decisions =
      ApplyRetention(rules, absl::UTCTimeZone(), now, std::move(sets));
  if (!decisions.ok()) return 0;
  std::map<std::string, bool> keep;
  for (const auto& d : *decisions) {
    if (!keep.emplace(d.id, d.keep).second) __builtin_trap();
  }
  return 0;
}
