// Sizes, times and durations as people read them, for the CLI's tables
// and the dashboard's pages. Pure functions; thread-safe.
#ifndef DXBACKUP_COMMON_HUMAN_UNITS_H_
#define DXBACKUP_COMMON_HUMAN_UNITS_H_

#include <cstdint>
#include <string>

namespace dxbackup::common {

// "1.5 GiB", "312 KiB", "17 B"
std::string HumanBytes(uint64_t bytes);
// "2026-11-28 16:45:00Z", or "-" for 0.
std::string HumanTime(int64_t unix_seconds);
// "1h02m", "3m05s", "42s"
std::string HumanDuration(int64_t seconds);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_HUMAN_UNITS_H_
