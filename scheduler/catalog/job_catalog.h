// JobCatalog: the durable record of the jobs of sets and restores (what
// each agent did, with its result and log). Implementations are
// thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_JOB_CATALOG_H_
#define DXBACKUP_SCHEDULER_CATALOG_JOB_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

class JobCatalog {
 public:
  virtual ~JobCatalog() = default;

  // Inserts the job, or updates its agent, status, error, times, counts
  // and log (its set, kind and target never change).
  virtual absl::Status UpsertJob(const v1::Job& job) = 0;
  // A set's jobs in the order they were first recorded.
  virtual absl::StatusOr<std::vector<v1::Job>> ListJobs(
      const std::string& set_id) = 0;
  // NotFound when there is no such job.
  virtual absl::StatusOr<v1::Job> GetJob(const std::string& id) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_JOB_CATALOG_H_
