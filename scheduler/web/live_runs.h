// LiveRuns keeps, from a JobBoard's changes, the jobs that are running now
// with their latest progress (the catalog records jobs only when they
// start and end), for the dashboard's running sets. A JobObserver: add it
// to the board, and remove it before it goes. Thread-safe.
#ifndef DXBACKUP_SCHEDULER_WEB_LIVE_RUNS_H_
#define DXBACKUP_SCHEDULER_WEB_LIVE_RUNS_H_

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "scheduler/jobs/job_observer.h"

namespace dxbackup::scheduler::web {

class LiveRuns : public JobObserver {
 public:
  void OnJobChanged(JobChange change, const v1::Job& job) override;

  // The unended jobs of set (or restore) `set_id`, by job id.
  std::vector<v1::Job> JobsOf(const std::string& set_id) const;
  // Every unended job, by set and job id.
  std::vector<v1::Job> All() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, v1::Job> jobs_;  // by job id
};

}  // namespace dxbackup::scheduler::web

#endif  // DXBACKUP_SCHEDULER_WEB_LIVE_RUNS_H_
