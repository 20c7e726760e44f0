// DrillRunner proves a backup set restores: it restores the set elsewhere,
// checks what came back, measures how long that took, records the result
// on the set (v1::Drill: `show`), tells the notices when it failed
// (drill_failed) and cleans up. Nothing in place is touched:
//
// - each volume goes under <to_dir>/<drill id>/<owner>-<volume> on an
//   agent that has it (RestoreRequest.to_dir) of the set's deployment, or
//   of the scratch deployment the request names (to_namespace and
//   to_release: a clone there), or on the one agent it names (to_agent),
//   and must come back with as many entries as the set's file index lists
//   for it (for an incremental, the entries of the moment its chain
//   restores; the agent has already checked each stream's SHA-256 and
//   length);
// - each PostgreSQL dump goes into a scratch database of this drill's own,
//   dxdrill_<drill id>_<n>, on its server as the config of the set's (or
//   the scratch) deployment gives it (RestoreRequest.database_to;
//   discovery never dumps dxdrill_ databases), where every table whose
//   data the dump's table of contents lists must be there and have its
//   rows counted;
// - every restore runs at once; the RTO is the wall time from the first
//   start to the last end;
// - afterwards, each agent removes <to_dir>/<drill id> (a hook job running
//   `rm -rf`), and the scratch databases are dropped;
// - before that, when the set's policy gives a smoke test (its
//   drill.smoke), it runs in the pod of the named agent or of an agent of
//   the destination deployment, with the drill's directory and scratch
//   databases in its environment, and must exit 0.
// Other members (a `command` or `external` database, the Kubernetes
// objects, a server's roles) are not restored by a drill; the checks say
// so. A set whose stored files do not match the catalog, or that has a
// dump the config no longer restores, fails its drill; a set that is not
// complete or was found corrupt is refused, not drilled. One drill of a
// deployment runs at a time. Only the drill is written on the set
// (SetCatalog::RecordDrill).
//
// Thread-safe; Drill blocks until the drill ended.
#ifndef DXBACKUP_SCHEDULER_DRILLS_DRILL_RUNNER_H_
#define DXBACKUP_SCHEDULER_DRILLS_DRILL_RUNNER_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/file_index.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/drills/set_driller.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/metrics/metrics.h"
#include "scheduler/notify/notice_sink.h"
#include "scheduler/runs/restore_runner.h"
#include "scheduler/runs/run_cancels.h"
#include "scheduler/sets/set_leases.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

// Where a drill restores volumes when the request names no directory.
inline constexpr char kDefaultDrillDir[] = "/tmp/dxbackup-drill";

class DrillRunner : public SetDriller {
 public:
  // What the runner uses; all must outlive it.
  struct Parts {
    const v1::SchedulerConfig* config;    // the deployments' databases
    SetCatalog* sets;                     // read; the drill recorded
    FileIndex* files;                     // the entries volumes must have
    ArtifactStore* store;                 // dumps' tables of contents
    const crypto::KeyRing* keys;          // to read encrypted dumps
    RestoreRunner* restores;              // the restores themselves
    AgentRegistry* registry;              // cleanup, in the agents' pods
    JobBoard* board;                      // the cleanup's jobs
    const common::TimeSource* time;       // the RTO, ids
    NoticeSink* notices = nullptr;        // told of a failed drill
    SchedulerMetrics* metrics = nullptr;  // drills counted
    RunCancels* cancels = nullptr;  // the drills' restores, cancelled by Stop
    // The set drilled is leased there from its first read to its record,
    // so that retention leaves it meanwhile; nullptr: no lease.
    SetLeases* leases = nullptr;
  };
  explicit DrillRunner(const Parts& parts) : parts_(parts) {}

  // The scheduler is stopping: the drills' restores are cancelled (they
  // end soon, then clean up), and no drill starts.
  void Stop();

  // NotFound for an unknown set, InvalidArgument for a bad to_dir;
  // otherwise the drill ran, passed or failed, and is recorded.
  absl::StatusOr<v1::DrillResponse> Drill(
      const v1::DrillRequest& request) override;

  // Blocks until at least `count` drills have ended (recorded, passed or
  // failed) since the runner was made; false if `timeout` of real time
  // passed first. For tests of scheduled drills, which run on the
  // PolicyDriller's threads while the test drives simulated time.
  bool AwaitEnded(int count, std::chrono::seconds timeout);

 private:
  // One restore of the drill, and what it came back with.
  struct Restore;
  // The connected agents a smoke test may run on: the destination
  // deployment's, or the named agent alone.
  struct Candidates {
    std::vector<v1::AgentInfo> agents;
    std::string where;   // the deployment, or the named agent's id
    bool named = false;  // the request named an agent
  };
  Candidates SmokeCandidates(const v1::DrillRequest& request,
                             const std::string& to_namespace,
                             const std::string& to_release);
  // Runs the smoke test on one of `candidates` (see v1::DrillSmoke); ""
  // when it passed, else why not.
  std::string RunSmoke(const v1::DrillSmoke& smoke, const std::string& drill_id,
                       const v1::BackupSet& set, const std::string& dir,
                       const std::string& databases,
                       const std::set<std::string>& restored_on,
                       const Candidates& candidates);
  // Removes <dir> on each agent in `agents` (hook jobs); what failed.
  std::vector<std::string> RemoveOnAgents(
      const std::string& drill_id, const std::vector<std::string>& agents,
      const std::string& dir, const std::string& set_id);

  Parts parts_;
  std::mutex mu_;
  bool stopping_ = false;
  std::set<std::string> drilling_;          // deployments being drilled
  std::set<std::string> restores_running_;  // the drills' restores' ids
  int ended_ = 0;                           // drills recorded
  std::condition_variable ended_cv_;        // ended_ grew
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_DRILLS_DRILL_RUNNER_H_
