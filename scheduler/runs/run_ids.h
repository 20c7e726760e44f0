// Names of sets, jobs and stored files.
#ifndef DXBACKUP_SCHEDULER_RUNS_RUN_IDS_H_
#define DXBACKUP_SCHEDULER_RUNS_RUN_IDS_H_

#include <string>

#include "common/clock.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

// "20261128T164500Z-3fa2": ids sort in the order they were made (the
// suffix is the moment within the second), and are unique.
std::string NewRunId(const common::Clock& clock);
// "<run-id>.<n>"
std::string JobId(const std::string& run_id, int n);
// "core/profile" for a volume, "db/dxmediadb" for a database.
std::string VolumeTarget(const std::string& component,
                         const std::string& volume);
std::string DatabaseTarget(const std::string& name);
// "core-profile.tar.zst" (a database's: DumpFileName)
std::string VolumeFileName(const std::string& component,
                           const std::string& volume,
                           v1::Compression compression);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_RUN_IDS_H_
