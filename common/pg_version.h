// PostgreSQL's server_version_num as people write it, for the scheduler's
// messages and the CLI's `show`.
#ifndef DXBACKUP_COMMON_PG_VERSION_H_
#define DXBACKUP_COMMON_PG_VERSION_H_

#include <string>

namespace dxbackup::common {

// "15.18" from 150018; "9.6.24" from 90624.
std::string PgVersionString(int server_version);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_PG_VERSION_H_
