// SchedulerMetrics is what the scheduler exports to Prometheus, served as
// text on http://<listen>/metrics:
//
//   dxbackup_sets_total{namespace,release,result}         counter
//   dxbackup_set_duration_seconds{result}                 histogram
//   dxbackup_stored_bytes_total{namespace,release}        counter
//   dxbackup_last_complete_set_timestamp_seconds{namespace,release} gauge
//     (the newest complete set the catalog holds, not found corrupt: a
//     restart, a removal and a verification agree on it)
//   dxbackup_quiesce_window_seconds{namespace,release}    gauge (last set)
//   dxbackup_retention_removed_sets_total{namespace,release} counter
//   dxbackup_deleted_sets_total{namespace,release}       counter (by hand)
//   dxbackup_jobs_ended_total{kind,result,code}           counter
//   dxbackup_drills_total{namespace,release,result}       counter
//   dxbackup_drill_last_timestamp_seconds{namespace,release,result} gauge
//   dxbackup_drill_rto_seconds{namespace,release}         gauge (last passed)
//   dxbackup_agents_connected{namespace}                  gauge (at scrape)
//
// Thread-safe. Labels come from the config and agents' namespaces, so
// their number is bounded by the fleet (a job's kind and code by their
// enums). It observes the JobBoard for the job counter, and takes notices
// (NoticeSink) to hear of sets found corrupt.
#ifndef DXBACKUP_SCHEDULER_METRICS_METRICS_H_
#define DXBACKUP_SCHEDULER_METRICS_METRICS_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/jobs/job_observer.h"
#include "scheduler/notify/notice_sink.h"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace dxbackup::scheduler {

class AgentRegistry;

class SchedulerMetrics : public JobObserver, public NoticeSink {
 public:
  // `agents`: counted at each scrape; `sets`: where the newest complete set
  // of a deployment is looked up after one goes. Both must outlive it.
  SchedulerMetrics(AgentRegistry* agents, SetCatalog* sets);
  ~SchedulerMetrics() override;

  // Counts ended jobs by kind, result and status code.
  void OnJobChanged(JobChange change, const v1::Job& job) override;

  // A set ended (complete or failed).
  void SetEnded(const v1::BackupSet& set);
  // A restore drill of `set` ended (its drill says how).
  void DrillEnded(const v1::BackupSet& set);
  // Retention (or `delete`, `by_hand`) removed a set: counted, and the
  // deployment's newest complete set looked up again (it may have been
  // this one).
  void SetRemoved(const v1::BackupSet& set, bool by_hand = false);
  // A verification_failed notice looks up the set's deployment's newest
  // complete set again (it may have been the set found corrupt); other
  // notices are not metrics' business.
  void Notify(const v1::Notice& notice) override;
  // At start: the newest complete set of each deployment (not found
  // corrupt), from the catalog, so that "time since the last complete set"
  // survives restarts.
  void SeedLastComplete(
      const std::vector<SetCatalog::DeploymentSummary>& deployments);
  // At start: each deployment's newest drill (`set`'s), so that the drill
  // gauges (when, and the RTO of a pass) survive restarts; the counters
  // count from the start.
  void SeedDrill(const v1::BackupSet& set);

  // Serves /metrics over HTTP on `listen` (HOST:PORT, port 0 for any);
  // returns the port.
  absl::StatusOr<int> Serve(const std::string& listen);
  // What /metrics serves, as text (the Prometheus exposition format).
  std::string Exposition() const;

 private:
  struct Families;
  class AgentsCollectable;

  // Sets (or, with `finished_unix` 0, removes) the deployment's gauge.
  void SetLastComplete(const std::string& namespace_,
                       const std::string& release, int64_t finished_unix);
  // Looks the deployment's newest complete set up in the catalog; a
  // catalog that fails leaves the gauge as it was, saying so in the log.
  void RecountLastComplete(const std::string& namespace_,
                           const std::string& release);

  SetCatalog* sets_;
  // Held while the last_complete gauges change, so that a recount and a
  // set ending do not interleave.
  std::mutex last_complete_mu_;

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  std::shared_ptr<AgentsCollectable> agents_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_METRICS_METRICS_H_
