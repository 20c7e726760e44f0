// RestoreRunner puts a complete backup set back, in place in the DX order
// (the deployment's pre-hooks, then its databases and volumes at once, then
// its post-hooks — the last whatever happened before, except after an
// external database that its DBA restores by hand: then they wait for
// `restore --post-hooks-only`, see TrimForRequest) or into a scratch
// directory: each volume through a
// connected agent of the set's deployment that has that component and
// volume (extracted as it streams, in place or under
// to_dir/<owner>-<volume>, e.g. to_dir/core-profile), and
// each database with pg_restore (into `database_to` or over the original).
// Only members of the one set are used; a set that is not complete, or that
// failed verification, is refused. A profile is restored in place only at
// the fix level it was taken at (unless forced), and into another
// deployment only when the request says `clone`.
//
// Start reads what the plan needs (the set, its artifacts and their
// chains, the destination's agents), plans the restore with PlanRestore,
// reaches every PostgreSQL dump's server (CheckDatabaseRestore), checks
// every stored file the plan reads (and, for an encrypted one, that
// the keys given open it), records the jobs and hands the plan to a
// QuiesceWindow on a thread of its own. Keys given with the request
// (RestoreRequest.identities) serve its jobs while it runs, and go with it.
//
// Thread-safe. The destructor joins restore threads.
#ifndef DXBACKUP_SCHEDULER_RUNS_RESTORE_RUNNER_H_
#define DXBACKUP_SCHEDULER_RUNS_RESTORE_RUNNER_H_

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/crypto/key_grants.h"
#include "scheduler/notify/notice_sink.h"
#include "scheduler/runs/backup_set_runner.h"
#include "scheduler/runs/quiesce_window.h"
#include "scheduler/runs/restore_plan.h"
#include "scheduler/runs/run_cancels.h"
#include "scheduler/runs/run_threads.h"
#include "scheduler/sets/set_leases.h"

namespace dxbackup::scheduler {

// The quiesce window of a restore: the plan's pre-hooks, then the
// servers' globals (roles a restored database's objects name; when one
// fails, nothing else is restored), then every other step at once —
// databases (each through `restore_database`, on a thread of its own) and
// volumes (sent to their agents) alike: with DX stopped nothing needs a
// database back before a volume starts — then the post-hooks, and last
// the commands that need DX up again (DumpCommand.while_running: DAM's
// references imported with xmlaccess). A database whose restore command
// runs in an agent's pod is sent to that agent. The work refers to `plan`
// and `restore_database`, which must outlive it.
WindowWork RestoreWindowWork(
    const RestorePlan& plan,
    const std::function<void(const RestoreStep&)>& restore_database);

class RestoreRunner {
 public:
  // What the runner uses; all must outlive it.
  struct Parts {
    // Deployments (databases, hooks).
    const v1::SchedulerConfig* config;
    // The set restored and its artifacts (and an incremental's bases).
    SetCatalog* sets;
    // The artifacts' bytes: checked first, then read back.
    ArtifactStore* store;
    // How encrypted artifacts are decrypted: the configured keys, and those
    // a restore was given, held for its jobs while it runs.
    const crypto::KeyRing* keys;
    crypto::KeyGrants* grants;
    // The deployment's agents, and where their jobs are sent.
    AgentRegistry* registry;
    // The steps' jobs.
    JobBoard* board;
    // Run ids, check times, and the wait for a reconnecting agent's hooks.
    const common::TimeSource* time;
    // Where a database dump is written whole for pg_restore --jobs (files
    // removed after each restore); empty: dumps are streamed.
    std::string spool_dir;
    // Where each restore is listed while it runs, to be cancelled;
    // nullptr: restores cannot be cancelled.
    RunCancels* cancels = nullptr;
    // The set each restore reads is leased there while it runs (retention
    // keeps it, `delete` refuses it). nullptr: no lease.
    SetLeases* leases = nullptr;
    // Told of a set the restore's checks found corrupt
    // (verification_failed); nullptr: nobody is.
    NoticeSink* notices = nullptr;
  };
  explicit RestoreRunner(const Parts& parts);
  ~RestoreRunner();

  absl::StatusOr<StartedRun> Start(const v1::RestoreRequest& request);

 private:
  // `cancel`: the restore's (RunCancels), never null.
  // `lease` (may be null): the set's, released before the end is told.
  void Run(RestorePlan plan, std::shared_ptr<RunEvents> events,
           std::shared_ptr<common::Cancellation> cancel,
           SetLeases::Lease* lease);
  void RestoreDatabase(const RestoreStep& step, const std::string& database_to);
  // Re-creates the set's Kubernetes objects the destination lacks.
  void RestoreObjects(const RestoreStep& step, const RestorePlan& plan);
  // `restore --release-hold` (deployment_holds.h): runs nothing.
  absl::StatusOr<StartedRun> ReleaseHold(const v1::RestoreRequest& request);
  // At the run's end: its hold waits when the window held the post-hooks,
  // else ends (RestorePlan::took_hold); with `ok`, the hold its hooks
  // waited for ends (RestorePlan::ends_hold_of). Returns what the run's
  // message must add: a hold that could not be set or ended.
  std::string RecordHold(const RestorePlan& plan, const WindowResult& window,
                         bool ok);

  Parts parts_;
  // Serialises the look at a destination's hold with the hold taken, and
  // --release-hold.
  std::mutex holds_mu_;
  RunThreads threads_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_RESTORE_RUNNER_H_
