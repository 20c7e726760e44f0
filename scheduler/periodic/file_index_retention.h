// FileIndexRetention keeps the catalog's file index to each deployment's
// newest sets (catalog.file_index_sets): the rows of an older set's volume
// artifacts move to lists in the store (FileLists), where `files`, `find
// --older` and drills still read them. What bounds the catalog of a large
// fleet is then the deployments, not the sets each keeps.
//
// Of a deployment's sets, newest first, the newest `file_index_sets` that
// ended (complete or failed) keep their rows, and so do, per policy, the
// newest sound set (the base its next incremental compares with, row by
// row) and, for a policy that takes differentials and for manual sets
// (which may), the newest sound full; a running or expiring set is never
// touched. A set is moved under a lease
// (SetLeases), so that retention does not remove it halfway.
//
// Runs after each policy set's prune (Apply, on that thread: the few sets
// one set's end lets go), and after every scheduled or asked-for prune
// (RequestAll: ApplyAll on a thread of its own, since a fleet that has
// just set file_index_sets has hours of moving to catch up on — about
// 0.4 s per set of 30,000 entries — which must hold up no periodic task,
// set or caller). A move that fails leaves that artifact's rows where they
// were and is logged; the first error is returned. Thread-safe: one
// deployment moves at a time, so an Apply waits for at most one
// deployment of a pass.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_FILE_INDEX_RETENTION_H_
#define DXBACKUP_SCHEDULER_PERIODIC_FILE_INDEX_RETENTION_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/replicas/deployment_scope.h"
#include "scheduler/sets/file_lists.h"
#include "scheduler/sets/set_leases.h"

namespace dxbackup::scheduler {

class FileIndexRetention {
 public:
  // `config`: catalog.file_index_sets (0: nothing moves) and the
  // policies' levels. `sets`: the sets and artifacts; `lists`: moves rows;
  // `leases` (may be null): held while a set moves. All must outlive it.
  FileIndexRetention(const v1::SchedulerConfig& config, SetCatalog* sets,
                     FileLists* lists, SetLeases* leases)
      : config_(config),
        keep_sets_(config.catalog().file_index_sets()),
        sets_(sets),
        lists_(lists),
        leases_(leases) {}

  ~FileIndexRetention();  // Stop()

  // Limits ApplyAll to the deployments in `scope`: a replica moves only
  // the rows of those it owns (deployment_scope.h). Before any other
  // call.
  void LimitTo(DeploymentScope scope) { scope_ = std::move(scope); }

  // One deployment.
  absl::Status Apply(const std::string& namespace_, const std::string& release);
  // Every deployment with sets (within the scope), one after another.
  absl::Status ApplyAll();
  // ApplyAll on the retention's own thread (started by the first
  // request); returns at once. A request during a pass makes one more.
  void RequestAll();
  // Ends the thread; a pass stops before its next set. Idempotent.
  void Stop();

 private:
  absl::Status ApplyLocked(const std::string& namespace_,
                           const std::string& release);
  void RunRequests();
  // Moves the rows of one set's volume artifacts that still have them.
  absl::Status MoveSet(const std::string& set_id);

  const v1::SchedulerConfig& config_;
  const int keep_sets_;
  SetCatalog* const sets_;
  FileLists* const lists_;
  SetLeases* const leases_;
  DeploymentScope scope_;  // empty: every deployment
  std::mutex mu_;          // one deployment at a time

  std::mutex request_mu_;
  std::condition_variable request_cv_;
  bool requested_ = false;  // request_mu_
  std::atomic<bool> stopping_{false};
  std::thread thread_;  // request_mu_; started by RequestAll
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_FILE_INDEX_RETENTION_H_
