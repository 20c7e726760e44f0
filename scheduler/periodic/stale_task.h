// StaleTask tells when a deployment falls behind its recovery point
// objective: for each deployment a policy with `rpo_seconds` covers, the
// newest complete set of it (any policy's, or a manual one; a set found
// corrupt does not count) must have ended within the RPO. A deployment
// with no complete set at all counts from when the task first saw it
// (since this scheduler started: a restart starts that count anew). A
// deployment once covered stays looked at while the scheduler runs, even
// when its agents are gone and forgotten (it no longer gets sets). A
// stale deployment is notified (deployment_stale) once per stale spell:
// again only after a complete set has ended the spell. Looked at every
// kEvery, on the ticker's thread.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_STALE_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_STALE_TASK_H_

#include <functional>
#include <map>
#include <set>
#include <vector>

#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/notify/notice_sink.h"
#include "scheduler/periodic/periodic_task.h"
#include "scheduler/policy/policy_queue.h"

namespace dxbackup::scheduler {

class StaleTask : public PeriodicTask {
 public:
  static constexpr absl::Duration kEvery = absl::Minutes(1);
  using CoveredFn = std::function<std::vector<PlanKey>()>;

  // `config`: the policies' rpo_seconds; `sets`: each deployment's sets;
  // `covered`: the deployments each policy covers now (PolicySlots);
  // `notices`: where a stale deployment is told. All must outlive the task.
  StaleTask(const v1::SchedulerConfig& config, SetCatalog* sets,
            CoveredFn covered, NoticeSink* notices)
      : config_(config),
        sets_(sets),
        covered_(std::move(covered)),
        notices_(notices) {}

  const char* name() const override { return "stale deployments"; }
  void Run(absl::Time now) override;
  absl::Time NextDue(absl::Time) const override { return every_.Next(); }

 private:
  const v1::SchedulerConfig& config_;
  SetCatalog* sets_;
  CoveredFn covered_;
  NoticeSink* notices_;
  Every every_{kEvery};
  std::set<PlanKey> known_;  // every key covered since the task began
  std::map<PlanKey, int64_t> first_seen_unix_;
  std::set<PlanKey> told_;  // stale, and notified
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_STALE_TASK_H_
