#include "scheduler/web/live_runs.h"

#include <algorithm>

namespace dxbackup::scheduler::web {

void LiveRuns::OnJobChanged(JobChange change, const v1::Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (change == JobChange::kEnded) {
    jobs_.erase(job.id());
  } else {
    jobs_[job.id()] = job;
  }
}

std::vector<v1::Job> LiveRuns::JobsOf(const std::string& set_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Job> out;
  for (const auto& [id, job] : jobs_) {
    if (job.set_id() == set_id) out.push_back(job);
  }
  return out;
}

std::vector<v1::Job> LiveRuns::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Job> out;
  for (const auto& [id, job] : jobs_) out.push_back(job);
  std::stable_sort(out.begin(), out.end(),
                   [](const v1::Job& a, const v1::Job& b) {
                     return a.set_id() < b.set_id();
                   });
  return out;
}

}  // namespace dxbackup::scheduler::web
