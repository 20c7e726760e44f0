// PlanBackupSet decides what a new backup set of a deployment captures,
// from plain values and nothing else: no catalog, no agents' connections,
// no clock. It returns the refusal, or the plan: the set (id, level,
// base), and its members in job order — each volume of each agent of the
// deployment (an offline agent's failing at once, saying so; a volume
// several agents mount, once, as <component>/<volume>, by one of them,
// with a warning on the set for each other one that is offline and so
// not quiesced), the
// deployment's quiesce hooks (pre, then post) on its connected agents,
// its databases (a `discover` entry's: its globals, then each
// database found; when they could not be listed or selected, the globals
// member fails at once, saying why; one whose command runs in an agent's
// pod, by the first connected agent of its component, or failing at once
// when there is none), its Kubernetes objects when it captures them, and,
// with scale_to_one, the scale-down and scale-up of its core StatefulSet
// (then only <release>-core-0 of the core pods takes part, with a warning
// for each volume of another that the set leaves out).
//
//   absl::Status s = CheckBackupRequest(request);        // before any read
//   ... read the history; the artifacts of PlanBackupLevel(...)'s base ...
//   absl::StatusOr<BackupPlan> plan = PlanBackupSet(inputs);
//
// The refusals: InvalidArgument for a request without a namespace and a
// release, or with one that is not a DNS label; FailedPrecondition when
// the deployment has nothing to back up (no agent, no database).
#ifndef DXBACKUP_SCHEDULER_RUNS_BACKUP_PLAN_H_
#define DXBACKUP_SCHEDULER_RUNS_BACKUP_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/agent.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/databases/discovered_databases.h"
#include "scheduler/runs/set_levels.h"

namespace dxbackup::scheduler {

// What PlanBackupSet reads; all of it read beforehand by the caller.
struct BackupInputs {
  // The deployments (databases, hooks); must outlive the plan, which
  // points into it.
  const v1::SchedulerConfig* config = nullptr;
  v1::BackupRequest request;
  // The new set's id (NewRunId) and when it starts.
  std::string set_id;
  int64_t now_unix = 0;
  // The deployment's agents that are connected or were lately
  // (AgentRegistry::KnownAgentsOf), before the request's component and
  // label filters.
  std::vector<v1::AgentInfo> agents;
  // The deployment's earlier sets, newest first (Catalog::ListSets).
  std::vector<v1::BackupSet> history;
  // The artifacts of PlanBackupLevel(request, history).base_set_id; empty
  // for a full.
  std::vector<v1::Artifact> base_artifacts;
  // The artifacts of the newest complete full set in `history`, for the
  // members' expected_bytes; empty when there is none.
  std::vector<v1::Artifact> last_full_artifacts;
  // For each `discover` database entry of the deployment, by its name:
  // the server's databases (ListServerDatabases), or why they could not
  // be listed.
  std::map<std::string, absl::StatusOr<std::vector<std::string>>> discovered;
};

// One member of the set: a volume, a hook or a database.
struct BackupMember {
  v1::Job job;                     // id, set, kind, target, agent
  v1::Artifact artifact;           // what a capture will be stored as
  DatabaseConfig database;         // a database: its config
  const v1::Hook* hook = nullptr;  // a hook: its config
  // The deployment's Kubernetes objects: what to capture.
  const v1::KubernetesObjects* objects = nullptr;
  std::string hook_pod;  // a hook: its agent's pod
  // A volume, or a database whose command runs in an agent's pod (then
  // job.agent_id is set): what its agent is sent.
  v1::SchedulerMessage command;
  std::string offline;  // set: the member fails at once, saying why
  // The core StatefulSet scaled to one replica (kDown, before the
  // pre-hooks) and back (kUp, after the post-hooks): scale_to_one.
  enum class Scale { kNone, kDown, kUp };
  Scale scale = Scale::kNone;
};

struct BackupPlan {
  v1::BackupSet set;  // running, with id, start, level and base
  LevelPlan level;    // why a full was taken instead, if it was
  v1::CaptureOptions options;
  // Volumes, then pre- and post-hooks, then databases, the Kubernetes
  // objects, the scale-down and scale-up; job ids 1..n.
  std::vector<BackupMember> members;
};

// InvalidArgument unless the request names a namespace and a release that
// are DNS labels (they name the set's directory in the store).
absl::Status CheckBackupRequest(const v1::BackupRequest& request);
// The request's capture options, zstd where it names no compression.
v1::CaptureOptions CaptureOptionsOf(const v1::BackupRequest& request);
// Full, or only what changed since a base among `history`'s sets of the
// request's policy.
LevelPlan PlanBackupLevel(const v1::BackupRequest& request,
                          const std::vector<v1::BackupSet>& history);

// The earliest the retention of policy `policy_name` may remove a set
// started at `started_unix`: the start plus the policy's keep_within (a
// lower bound: a month counts 28 days, a year 365), or the start itself
// when the policy keeps sets by count only or there is no such policy (a
// manual set). Planned artifacts carry it; a locking store locks them at
// least until then.
int64_t EarliestRemoval(const v1::SchedulerConfig& config,
                        const std::string& policy_name, int64_t started_unix);

// A volume that several agents of a component mount under one name (the
// same Volume::shared_id): the agent that captures it (the first in pod
// order that is connected, else the first), the pods of the others, and
// the target's owner — the component when the group is every agent of
// the component with a volume of that name, else the capturer's pod (so
// that two groups never share a target).
struct SharedVolume {
  const v1::AgentInfo* capturer = nullptr;  // points into the agents given
  std::vector<std::string> others;
  std::string owner;
};
// The key of `agent`'s `volume` among SharedVolumes': "" when it is shared
// with nothing (no shared_id, or a file-system identity of an offline
// agent, which a reattached disk may now have too).
std::string SharedKey(const v1::AgentInfo& agent, const v1::Volume& volume);
// By SharedKey, each volume that more than one of `agents` mounts.
std::map<std::string, SharedVolume> SharedVolumes(
    const std::vector<v1::AgentInfo>& agents);

absl::StatusOr<BackupPlan> PlanBackupSet(const BackupInputs& inputs);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_BACKUP_PLAN_H_
