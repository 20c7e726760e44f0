#include "scheduler/runs/backup_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/resource_names.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/databases/agent_commands.h"
#include "scheduler/databases/database_dumps.h"
#include "scheduler/kubernetes/core_scale.h"
#include "scheduler/kubernetes/release_capture.h"
#include "scheduler/policy/calendar_duration.h"
#include "scheduler/policy/retention.h"
#include "scheduler/postgres/pg_cluster.h"
#include "scheduler/runs/hook_jobs.h"
#include "scheduler/runs/run_ids.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

absl::Status CheckBackupRequest(const v1::BackupRequest& request) {
  const std::string& ns = request.namespace_();
  const std::string& release = request.release();
  if (ns.empty() || release.empty()) {
    return absl::InvalidArgumentError(
        "a backup needs a namespace and a release");
  }
  for (auto [field, value] :
       {std::pair{"namespace", &ns}, {"release", &release}}) {
    if (absl::Status s = common::CheckDnsLabel(field, *value); !s.ok()) {
      return s;  // it would name the set's directory in the store
    }
  }
  return absl::OkStatus();
}

v1::CaptureOptions CaptureOptionsOf(const v1::BackupRequest& request) {
  v1::CaptureOptions options = request.options();
  if (options.compression() == v1::COMPRESSION_UNSPECIFIED) {
    options.set_compression(v1::COMPRESSION_ZSTD);
  }
  return options;
}

LevelPlan PlanBackupLevel(const v1::BackupRequest& request,
                          const std::vector<v1::BackupSet>& history) {
  std::vector<v1::BackupSet> same;  // the bases a set may build on
  for (const v1::BackupSet& s : history) {
    if (s.namespace_() == request.namespace_() &&
        s.release() == request.release() && s.policy() == request.policy()) {
      same.push_back(s);
    }
  }
  return PlanLevel(CaptureOptionsOf(request), same);
}

int64_t EarliestRemoval(const v1::SchedulerConfig& config,
                        const std::string& policy_name, int64_t started_unix) {
  for (const v1::Policy& policy : config.policies()) {
    if (policy.name() != policy_name) continue;
    return EarliestRemovalUnder(policy.retention(), started_unix);
  }
  return started_unix;
}

std::string SharedKey(const v1::AgentInfo& agent, const v1::Volume& volume) {
  // A file-system identity is only as fresh as its agent's connection: a
  // device number and inode an offline agent reported may be another
  // disk's now.
  if (volume.shared_id().empty() ||
      (absl::StartsWith(volume.shared_id(), "fs/") && !agent.connected())) {
    return "";
  }
  return absl::StrCat(volume.shared_id(), "\n", agent.component(), "\n",
                      volume.name());
}

std::map<std::string, SharedVolume> SharedVolumes(
    const std::vector<v1::AgentInfo>& agents) {
  std::map<std::string, std::vector<const v1::AgentInfo*>> mounting;
  // Agents with a volume of each component/name: a group that is all of
  // them may be named for the component.
  std::map<std::pair<std::string, std::string>, int> having;
  for (const v1::AgentInfo& agent : agents) {
    std::set<std::string> names;
    for (const v1::Volume& volume : agent.volumes()) {
      if (names.insert(volume.name()).second) {
        ++having[{agent.component(), volume.name()}];
      }
      const std::string key = SharedKey(agent, volume);
      if (key.empty()) continue;
      std::vector<const v1::AgentInfo*>& list = mounting[key];
      if (list.empty() || list.back() != &agent) list.push_back(&agent);
    }
  }
  std::map<std::string, SharedVolume> out;
  for (auto& [key, list] : mounting) {
    if (list.size() < 2) continue;
    std::sort(list.begin(), list.end(),
              [](const v1::AgentInfo* a, const v1::AgentInfo* b) {
                return a->pod() < b->pod();
              });
    SharedVolume& v = out[key];
    v.capturer = list.front();
    for (const v1::AgentInfo* agent : list) {
      if (agent->connected()) {
        v.capturer = agent;
        break;
      }
    }
    for (const v1::AgentInfo* agent : list) {
      if (agent != v.capturer) v.others.push_back(agent->pod());
    }
    // "core/profile" when every core pod mounts this one volume; when the
    // pods make several groups (pods on two nodes, each pair sharing a
    // directory), each group is its capturer's ("dx-dam-2/upload").
    const std::string volume = key.substr(key.rfind('\n') + 1);
    const bool all = having[{v.capturer->component(), volume}] ==
                     static_cast<int>(list.size());
    v.owner = all ? v.capturer->component() : v.capturer->pod();
  }
  return out;
}

absl::StatusOr<BackupPlan> PlanBackupSet(const BackupInputs& in) {
  const v1::BackupRequest& request = in.request;
  if (absl::Status s = CheckBackupRequest(request); !s.ok()) return s;
  const std::string& ns = request.namespace_();
  const std::string& release = request.release();
  BackupPlan plan;
  plan.options = CaptureOptionsOf(request);
  const v1::CaptureOptions& options = plan.options;
  v1::BackupSet& set = plan.set;
  set.set_id(in.set_id);
  set.set_namespace_(ns);
  set.set_release(release);
  set.set_status(v1::SET_RUNNING);
  set.set_started_unix(in.now_unix);
  set.set_policy(request.policy());
  // Full, or only what changed since a base of the same policy's sets.
  plan.level = PlanBackupLevel(request, in.history);
  set.set_level(plan.level.level);
  set.set_base_set_id(plan.level.base_set_id);
  std::set<std::string> base_targets;  // volumes the base holds
  if (!plan.level.base_set_id.empty()) {
    for (const v1::Artifact& a : in.base_artifacts) {
      if (a.kind() != v1::ARTIFACT_VOLUME_TAR) continue;
      if (a.has_file_list()) {
        // The agent compares with the base's rows, which are gone.
        set.add_warnings(absl::StrCat(
            a.target(), " is stored whole: the file index of its base, set ",
            plan.level.base_set_id,
            ", was moved to the store (catalog.file_index_sets)"));
        continue;
      }
      base_targets.insert(a.target());
    }
  }

  // The earliest its policy may remove the set: a store that locks what
  // it writes (S3 Object Lock) locks the artifacts at least until then.
  const int64_t keep_until =
      EarliestRemoval(*in.config, request.policy(), in.now_unix);
  // An encrypted namespace's artifacts are age files, and say so.
  const std::string encrypted = EncryptionKeyFor(*in.config, ns) != nullptr
                                    ? crypto::kEncryptedSuffix
                                    : "";
  std::vector<BackupMember>& members = plan.members;
  auto add_member = [&](v1::JobKind kind, const std::string& target,
                        const std::string& file, const std::string& source) {
    BackupMember m;
    m.job.set_id(JobId(set.id(), static_cast<int>(members.size()) + 1));
    m.job.set_set_id(set.id());
    m.job.set_kind(kind);
    m.job.set_target(target);
    m.artifact.set_set_id(set.id());
    m.artifact.set_target(target);
    m.artifact.set_path(ArtifactStore::RelativePath(
        ns, release, set.id(), file.empty() ? "" : file + encrypted));
    m.artifact.set_source(source);
    m.artifact.set_locked_until_unix(keep_until);
    members.push_back(m);
    return &members.back();
  };
  // Every agent of the deployment that is connected, or was lately, of
  // the component and labels asked for: an offline agent's volumes are
  // members that fail at once, saying so.
  const v1::Deployment* deployment = FindDeployment(*in.config, ns, release);
  std::vector<v1::AgentInfo> agents;
  for (const v1::AgentInfo& agent : in.agents) {
    if (!request.component().empty() &&
        agent.component() != request.component()) {
      continue;
    }
    bool labelled = true;
    for (const auto& [key, value] : request.agent_labels()) {
      auto it = agent.labels().find(key);
      labelled = labelled && it != agent.labels().end() && it->second == value;
    }
    if (labelled) agents.push_back(agent);
  }
  // With scale_to_one the window sees one core pod, the one a StatefulSet
  // keeps at one replica: when its agent is connected and the set has work
  // on it, the others are scaled away (their volumes and hooks left out;
  // their targets keep their names, so that bases still match).
  std::set<std::string> scaled_away;  // pods
  const v1::AgentInfo* survivor = nullptr;
  for (const v1::AgentInfo& agent : agents) {
    if (agent.pod() == CoreSurvivor(release) && agent.connected())
      survivor = &agent;
  }
  const bool scale_to_one = deployment != nullptr &&
                            deployment->scale_to_one() && survivor != nullptr;
  if (deployment != nullptr && deployment->scale_to_one() &&
      survivor == nullptr &&
      (request.component().empty() || request.component() == "core")) {
    set.add_warnings(absl::StrCat(
        "scale_to_one: ", CoreSurvivor(release),
        " takes no part in this set (its agent is not connected, or not "
        "asked for): ",
        CoreStatefulSet(release), " was not scaled"));
  }
  std::set<std::string> kept;  // what the survivor mounts
  if (scale_to_one) {
    for (const v1::Volume& volume : survivor->volumes()) {
      if (!volume.shared_id().empty()) kept.insert(volume.shared_id());
    }
    for (const v1::AgentInfo& agent : in.agents) {
      if (agent.component() == "core" && agent.pod() != survivor->pod()) {
        scaled_away.insert(agent.pod());
      }
    }
  }
  std::map<std::string, int> replicas;  // agents per component
  for (const v1::AgentInfo& agent : agents) ++replicas[agent.component()];
  const std::map<std::string, SharedVolume> shared = SharedVolumes(agents);
  for (const v1::AgentInfo& agent : agents) {
    for (const v1::Volume& volume : agent.volumes()) {
      // "core/profile"; with several core pods, "dx-core-0/profile" and so
      // on, unless they all mount the one volume, captured once.
      auto group = shared.find(SharedKey(agent, volume));
      const SharedVolume* sharing =
          group == shared.end() ? nullptr : &group->second;
      if (scaled_away.count(agent.pod()) != 0) {
        // What the pod left shares is captured there.
        if (kept.count(volume.shared_id()) == 0) {
          set.add_warnings(absl::StrCat(
              agent.pod(), "'s volume ", volume.name(),
              " is not in the set: scale_to_one stops that pod for the "
              "window"));
        }
        continue;
      }
      if (sharing != nullptr && sharing->capturer != &agent) {
        if (!agent.connected()) {
          set.add_warnings(absl::StrCat(
              agent.pod(), " mounts the volume ", volume.name(), " that ",
              sharing->capturer->pod(),
              " captures, but its agent is offline: that pod was not "
              "quiesced"));
        }
        continue;
      }
      const std::string owner = sharing != nullptr ? sharing->owner
                                : replicas[agent.component()] <= 1
                                    ? agent.component()
                                    : agent.pod();
      BackupMember* m = add_member(
          v1::JOB_VOLUME_BACKUP, VolumeTarget(owner, volume.name()),
          VolumeFileName(owner, volume.name(), options.compression()),
          absl::StrCat(agent.pod(), ":", volume.path(),
                       volume.resolved_path().empty()
                           ? ""
                           : " -> " + volume.resolved_path(),
                       sharing == nullptr
                           ? ""
                           : absl::StrCat(" (mounted by ",
                                          absl::StrJoin(sharing->others, ", "),
                                          " too)")));
      m->job.set_agent_id(agent.id());
      m->artifact.set_kind(v1::ARTIFACT_VOLUME_TAR);
      m->artifact.set_compression(options.compression());
      m->artifact.set_fix_level(volume.fix_level());
      if (base_targets.count(m->artifact.target()) != 0) {
        m->artifact.set_base_set_id(plan.level.base_set_id);
      } else {
        for (const v1::Artifact& last : in.last_full_artifacts) {
          if (last.target() == m->artifact.target()) {
            m->job.set_expected_bytes(last.bytes());
          }
        }
      }
      v1::BackupCommand* backup = m->command.mutable_backup();
      backup->set_job_id(m->job.id());
      backup->set_volume(volume.name());
      *backup->mutable_options() = options;
      backup->set_incremental(!m->artifact.base_set_id().empty());
      if (!agent.connected()) {
        m->offline = absl::StrCat(
            "agent ", agent.id(), " is offline (last seen ",
            absl::FormatTime("%Y-%m-%d %H:%M:%SZ",
                             absl::FromUnixSeconds(agent.last_seen_unix()),
                             absl::UTCTimeZone()),
            ")");
      }
    }
  }
  if (const v1::Deployment* d = deployment) {
    // Each hook runs on every connected agent of its component.
    // The pods scaled away run none.
    std::vector<v1::AgentInfo> hook_agents;
    for (const v1::AgentInfo& agent : agents) {
      if (scaled_away.count(agent.pod()) == 0) hook_agents.push_back(agent);
    }
    for (v1::Hook::Phase phase : {v1::Hook::PRE, v1::Hook::POST}) {
      for (HookJob& h : PlanHooks(d, hook_agents, phase)) {
        BackupMember* m = add_member(v1::JOB_HOOK, h.job.target(), "", "");
        m->job.set_agent_id(h.job.agent_id());
        m->hook = h.hook;
        m->hook_pod = h.pod;
      }
    }
    // Any agent of the deployment runs a command, whatever the request's
    // component and labels, but not one of a pod scaled away.
    std::vector<v1::AgentInfo> command_agents;
    for (const v1::AgentInfo& agent : in.agents) {
      if (scaled_away.count(agent.pod()) == 0) command_agents.push_back(agent);
    }
    auto add_database = [&](DatabaseConfig db) {
      BackupMember* m =
          add_member(v1::JOB_DATABASE_BACKUP, DatabaseTarget(db->name()),
                     DumpFileName(*db), DescribeAnyDatabase(*db));
      m->artifact.set_kind(DumpKindOf(*db));
      m->artifact.set_compression(DumpCompressionOf(*db));
      m->database = std::move(db);
      // A command run in an agent's pod: by the first connected agent of
      // its component, whatever the request's component and labels.
      const std::string component = CommandComponent(*m->database);
      if (!component.empty()) {
        const v1::AgentInfo* agent = CommandAgent(command_agents, component);
        if (agent == nullptr) {
          m->offline =
              absl::StrCat("no agent of component ", component, " of ", ns, "/",
                           release, " is connected to run its command");
        } else {
          m->job.set_agent_id(agent->id());
          m->artifact.set_source(
              absl::StrCat(m->artifact.source(), " on ", agent->pod()));
          *m->command.mutable_capture_command() =
              AgentCapture(*m->database, m->job.id(), agent->pod());
        }
      }
      return m;
    };
    std::set<std::string> taken;  // names of databases discovered
    for (const v1::Database& db : d->databases()) {
      BackupMember* globals = add_database(Listed(db));
      if (!db.discover()) continue;
      // A `discover` entry's member is its server's globals; each
      // database found is a member of its own.
      auto found = in.discovered.find(db.name());
      if (found == in.discovered.end()) {
        globals->offline = "its databases were not listed";
        continue;
      }
      if (!found->second.ok()) {
        globals->offline = absl::StrCat("cannot list ", DescribeServer(db),
                                        ": ", found->second.status().message());
        continue;
      }
      const DiscoveredSelection selected =
          SelectDiscovered(*d, db, *found->second, &taken);
      globals->offline = selected.problem;  // before `members` grows
      for (const std::string& name : selected.databases) {
        add_database(DiscoveredDatabase(db, name))
            ->artifact.set_discovered_by(db.name());
      }
    }
  }
  if (const v1::Deployment* d = deployment;
      d != nullptr && d->kubernetes().capture()) {
    BackupMember* m = add_member(
        v1::JOB_OBJECTS_BACKUP, kObjectsTarget, kObjectsFile,
        DescribeObjects(in.config->kubernetes_api(), d->kubernetes(), release));
    m->objects = &d->kubernetes();
    m->artifact.set_kind(v1::ARTIFACT_KUBERNETES_OBJECTS);
    m->artifact.set_compression(v1::COMPRESSION_ZSTD);
    if (encrypted.empty()) {
      set.add_warnings(absl::StrCat(
          kObjectsTarget, " holds the release's Secrets unencrypted: give ", ns,
          " an encryption key (encryption.keys) to store them sealed"));
    }
  }
  if (scale_to_one && !members.empty()) {
    const std::string source =
        absl::StrCat("statefulset ", CoreStatefulSet(release), " (", ns, ")");
    add_member(v1::JOB_SCALE, "k8s/scale-down", "", source)->scale =
        BackupMember::Scale::kDown;
    add_member(v1::JOB_SCALE, "k8s/scale-up", "", source)->scale =
        BackupMember::Scale::kUp;
  }
  if (members.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "nothing to back up for ", ns, "/", release,
        ": no agent of it is connected and the config lists no database for "
        "it (see `dxbackup agents`)"));
  }
  return plan;
}

}  // namespace dxbackup::scheduler
