#include "scheduler/runs/restore_plan.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/resource_names.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/databases/agent_commands.h"
#include "scheduler/databases/database_dumps.h"
#include "scheduler/databases/external_backup.h"
#include "scheduler/runs/run_ids.h"

namespace dxbackup::scheduler {

namespace {

// The connected agent to restore a volume target through: `owner` is the
// target's first part, a component ("core") or, for a component with
// several pods, a pod name. The pod that made the backup (`source` is
// "pod:path") is preferred. "" when none fits.
std::string PickAgent(const std::vector<v1::AgentInfo>& agents,
                      const std::string& owner, const std::string& volume,
                      const std::string& source) {
  const std::string source_pod = source.substr(0, source.find(':'));
  std::string fallback;
  for (const v1::AgentInfo& agent : agents) {
    if (agent.component() != owner && agent.pod() != owner) continue;
    for (const v1::Volume& v : agent.volumes()) {
      if (v.name() != volume) continue;
      if (agent.pod() == source_pod) return agent.id();
      if (fallback.empty()) fallback = agent.id();
    }
  }
  return fallback;
}

// The fix level the agent reports for one of its volumes now, or "".
std::string CurrentFixLevel(const std::vector<v1::AgentInfo>& agents,
                            const std::string& agent_id,
                            const std::string& volume) {
  for (const v1::AgentInfo& agent : agents) {
    if (agent.id() != agent_id) continue;
    for (const v1::Volume& v : agent.volumes()) {
      if (v.name() == volume) return v.fix_level();
    }
  }
  return "";
}

}  // namespace

RestoreDestination DestinationOf(const v1::RestoreRequest& request,
                                 const v1::BackupSet& set) {
  return {request.to_namespace().empty() ? set.namespace_()
                                         : request.to_namespace(),
          request.to_release().empty() ? set.release() : request.to_release()};
}

absl::Status CheckRestoreRequest(const v1::RestoreRequest& request) {
  if (!request.to_agent().empty()) {
    if (absl::Status s = common::CheckAgentId("--agent", request.to_agent());
        !s.ok()) {
      return s;
    }
    if (request.to_dir().empty()) {
      return absl::InvalidArgumentError(
          "--agent puts the volumes under a directory on that agent: add "
          "--to DIR");
    }
  }
  if (request.database_to().empty()) return absl::OkStatus();
  return common::CheckDatabaseName("--database-to", request.database_to());
}

absl::Status CheckRestorable(const v1::BackupSet& set) {
  if (set.status() != v1::SET_COMPLETE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "set ", set.id(), " is ", v1::SetStatus_Name(set.status()),
        ", not complete; restore from a complete set (`dxbackup sets`)"));
  }
  if (set.verification().result() == v1::Verification::CORRUPT) {
    return absl::FailedPreconditionError(
        absl::StrCat("set ", set.id(), " failed verification (",
                     set.verification().detail(), "); restore another set"));
  }
  return absl::OkStatus();
}

absl::StatusOr<RestorePlan> PlanRestore(const RestoreInputs& in) {
  const v1::RestoreRequest& request = in.request;
  const v1::BackupSet& set = in.set;
  if (absl::Status s = CheckRestoreRequest(request); !s.ok()) return s;
  if (absl::Status s = CheckRestorable(set); !s.ok()) return s;
  // Where the set goes: its own deployment, or, only when asked for
  // explicitly, another one (a clone).
  const RestoreDestination to = DestinationOf(request, set);
  const bool own_deployment =
      to.namespace_ == set.namespace_() && to.release == set.release();
  if (!own_deployment && !request.clone()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "set ", set.id(), " is of ", set.namespace_(), "/", set.release(),
        "; restoring it into ", to.namespace_, "/", to.release,
        " makes a clone: add --clone if that is what you mean"));
  }
  const v1::Deployment* deployment =
      FindDeployment(*in.config, to.namespace_, to.release);
  const std::vector<v1::AgentInfo>& agents = in.agents;

  RestorePlan plan;
  plan.run_id = in.run_id;
  plan.set = set;
  plan.database_to = request.database_to();
  plan.to_namespace = to.namespace_;
  plan.to_release = to.release;
  std::vector<std::string> problems;
  int databases = 0;
  for (const v1::Artifact& artifact : in.artifacts) {
    if (!request.target().empty() && artifact.target() != request.target()) {
      continue;
    }
    if (artifact.kind() == v1::ARTIFACT_KUBERNETES_OBJECTS &&
        !request.kubernetes()) {
      // Re-created only when asked for: live Secrets are the operator's.
      if (request.target().empty()) continue;
      problems.push_back(absl::StrCat(
          artifact.target(),
          ": re-creating Kubernetes objects needs --kubernetes (those the "
          "namespace has are left as they are)"));
      continue;
    }
    RestoreStep step;
    step.artifact = artifact;
    if (artifact.kind() == v1::ARTIFACT_KUBERNETES_OBJECTS) {
      if (!request.paths().empty()) continue;  // a file-level restore
      step.job.set_id(
          JobId(in.run_id, static_cast<int>(plan.steps.size()) + 1));
      step.job.set_set_id(set.id());
      step.job.set_target(artifact.target());
      step.job.set_kind(v1::JOB_OBJECTS_RESTORE);
      plan.steps.push_back(std::move(step));
      continue;
    }
    step.job.set_id(JobId(in.run_id, static_cast<int>(plan.steps.size()) + 1));
    step.job.set_set_id(set.id());
    step.job.set_target(artifact.target());
    if (IsDatabaseDump(artifact)) {
      if (!request.paths().empty()) continue;  // a file-level restore
      // A server's roles go back with its databases over the originals.
      // A copy into a new database uses the server's roles; a clone's
      // server gets another deployment's roles (and their passwords) only
      // when asked for by name.
      if (artifact.kind() == v1::ARTIFACT_PG_GLOBALS) {
        if (!request.database_to().empty()) {
          if (request.target().empty()) continue;
          problems.push_back(absl::StrCat(
              artifact.target(),
              ": a server's roles and grants go back only over the original "
              "server; drop --database-to"));
        } else if (request.clone() && request.target().empty()) {
          continue;
        }
      }
      step.job.set_kind(v1::JOB_DATABASE_RESTORE);
      step.database = DatabaseFor(deployment, artifact);
      if (step.database == nullptr) {
        problems.push_back(absl::StrCat(
            artifact.target(), ": the config lists no database ",
            artifact.discovered_by().empty()
                ? artifact.target().substr(3)
                : absl::StrCat("discovery ", artifact.discovered_by()),
            " for ", to.namespace_, "/", to.release));
      }
      // A command that needs DX up (DAM's references, imported into the
      // running portal) has no elsewhere: a restore to a directory or
      // another database leaves it out unless it is the target.
      const bool while_up =
          step.database != nullptr && RunsWhileUp(*step.database);
      if (while_up && request.target().empty() &&
          (!request.to_dir().empty() || !request.database_to().empty())) {
        continue;
      }
      databases += artifact.kind() != v1::ARTIFACT_PG_GLOBALS && !while_up;
      // A restore command that runs in an agent's pod, by the first
      // connected agent of its component (an external backup restored by
      // hand has none: the scheduler names it).
      if (step.database != nullptr &&
          RestoresInAgent(*step.database, artifact)) {
        const std::string component = CommandComponent(*step.database);
        const v1::AgentInfo* agent = CommandAgent(agents, component);
        if (agent == nullptr) {
          problems.push_back(absl::StrCat(
              artifact.target(), ": no connected agent of ", to.namespace_, "/",
              to.release, " is ", component, " to run its restore command"));
        } else {
          step.job.set_agent_id(agent->id());
          v1::CommandRestore restore =
              AgentRestore(*step.database, artifact, step.job.id(),
                           agent->pod(), request.database_to());
          restore.set_sha256(crypto::PlainSha256(artifact));
          restore.set_bytes(crypto::PlainBytes(artifact));
          *step.command.mutable_restore_command() = std::move(restore);
        }
      }
    } else {
      step.job.set_kind(v1::JOB_VOLUME_RESTORE);
      const size_t slash = artifact.target().find('/');
      const std::string owner = artifact.target().substr(0, slash);
      const std::string volume = artifact.target().substr(slash + 1);
      if (!request.to_agent().empty()) {
        // A named agent takes every volume under --to, having it or not.
        if (!in.to_agent.has_value()) {
          problems.push_back(absl::StrCat(artifact.target(), ": agent ",
                                          request.to_agent(),
                                          " is not connected"));
        } else {
          step.job.set_agent_id(in.to_agent->id());
        }
      } else {
        step.job.set_agent_id(
            PickAgent(agents, owner, volume, artifact.source()));
      }
      if (step.job.agent_id().empty() && request.to_agent().empty()) {
        problems.push_back(absl::StrCat(
            artifact.target(), ": no connected agent of ", to.namespace_, "/",
            to.release, " is ", owner, " with volume ", volume));
      }
      // A profile goes back only at the fix level it was taken at.
      const std::string current =
          CurrentFixLevel(agents, step.job.agent_id(), volume);
      if (request.to_dir().empty() && !request.force_fixlevel() &&
          !artifact.fix_level().empty() && !current.empty() &&
          current != artifact.fix_level()) {
        problems.push_back(absl::StrCat(
            artifact.target(), ": the backup is at fix level ",
            artifact.fix_level(), " but the volume is at ", current,
            "; restore at the same fix level (the DX procedure's rule), or "
            "add --force-fixlevel"));
      }
      if (!artifact.base_set_id().empty()) {
        auto chain = in.chains.find(artifact.target());
        if (chain == in.chains.end()) {
          problems.push_back(
              absl::StrCat(artifact.target(),
                           ": the chain of sets it builds on was not "
                           "read"));
        } else if (chain->second.ok()) {
          step.bases = *chain->second;
        } else {
          problems.push_back(absl::StrCat(artifact.target(), ": ",
                                          chain->second.status().message()));
        }
      }
      v1::RestoreCommand* restore = step.command.mutable_restore();
      restore->set_job_id(step.job.id());
      restore->set_volume(volume);
      if (!request.to_dir().empty()) {
        restore->set_to_dir(
            absl::StrCat(request.to_dir(), "/", owner, "-", volume));
      }
      restore->set_compression(artifact.compression());
      // What the agent receives and checks: the plaintext (the scheduler
      // decrypts an encrypted artifact as it sends it).
      restore->set_sha256(crypto::PlainSha256(artifact));
      restore->set_bytes(crypto::PlainBytes(artifact));
      for (const v1::Artifact& base : step.bases) {
        v1::RestorePart* part = restore->add_base_parts();
        part->set_sha256(crypto::PlainSha256(base));
        part->set_bytes(crypto::PlainBytes(base));
        part->set_compression(base.compression());
      }
      restore->set_mode(request.mode());
      // The deployment's own set, checked against its digests before
      // anything is written, goes back as it was, setuid/setgid bits
      // included; into another deployment (a clone) they are dropped
      // unless asked for.
      restore->set_keep_setid(request.keep_setid() || own_deployment);
      *restore->mutable_paths() = request.paths();
    }
    // What it reads: its chain's stored bytes and its own.
    uint64_t expected = step.artifact.bytes();
    for (const v1::Artifact& base : step.bases) expected += base.bytes();
    step.job.set_expected_bytes(expected);
    plan.steps.push_back(std::move(step));
  }
  if (plan.steps.empty() && problems.empty()) {
    return absl::NotFoundError(
        request.target().empty()
            ? absl::StrCat("set ", set.id(), " has no artifacts")
            : absl::StrCat("set ", set.id(), " has no target ",
                           request.target()));
  }
  if (!request.to_dir().empty() && request.database_to().empty() &&
      databases > 0) {
    problems.push_back(
        "--to puts the volumes elsewhere, but the set's database would go "
        "over the original: add --database-to NAME, or --target a volume");
  }
  if (!request.database_to().empty() && databases > 1) {
    problems.push_back(
        "--database-to names one database but the set has several: add "
        "--target db/NAME");
  }
  // Only the hooks of a restore that already ran: what its volumes would
  // need now (an agent, a fix level) does not matter.
  if (!problems.empty() && !request.post_hooks_only()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot restore set ", set.id(), ": ", absl::StrJoin(problems, "; ")));
  }
  // Restoring in place quiesces what it overwrites, the way a backup does:
  // the hooks of each component whose volume goes back in place, and every
  // hook when a database goes back over the original (all components use
  // it). Restores elsewhere stop nothing.
  std::set<std::string> quiesced;
  bool quiesce_all = false;
  for (const RestoreStep& step : plan.steps) {
    if (step.job.kind() == v1::JOB_OBJECTS_RESTORE) continue;
    if (step.job.kind() == v1::JOB_DATABASE_RESTORE) {
      // A command that needs DX up runs after the window, stopping nothing.
      if (step.database != nullptr && RunsWhileUp(*step.database)) continue;
      quiesce_all = quiesce_all || request.database_to().empty();
    } else if (step.command.restore().to_dir().empty()) {
      for (const v1::AgentInfo& a : agents) {
        if (a.id() == step.job.agent_id()) quiesced.insert(a.component());
      }
      // No agent has the volume now (--post-hooks-only after a scale-down):
      // the target's owner is its component ("core" of core/profile).
      if (step.job.agent_id().empty()) {
        const std::string& target = step.artifact.target();
        quiesced.insert(target.substr(0, target.find('/')));
      }
    }
  }
  std::vector<v1::AgentInfo> hook_agents;
  for (const v1::AgentInfo& a : agents) {
    if (quiesce_all || quiesced.count(a.component())) hook_agents.push_back(a);
  }
  plan.pre = PlanHooks(deployment, hook_agents, v1::Hook::PRE);
  plan.post = PlanHooks(deployment, hook_agents, v1::Hook::POST);
  int n = static_cast<int>(plan.steps.size());
  for (std::vector<HookJob>* hooks : {&plan.pre, &plan.post}) {
    for (HookJob& h : *hooks) {
      h.job.set_id(JobId(in.run_id, ++n));
      h.job.set_set_id(set.id());
    }
  }
  return plan;
}

namespace {

// A step whose database its DBA restores by hand: an external backup's
// reference, with no restore command in the config.
bool ByHand(const RestoreStep& step) {
  return step.database != nullptr &&
         step.artifact.kind() == v1::ARTIFACT_EXTERNAL_BACKUP &&
         step.database->has_external() && RestoredByHand(*step.database);
}

}  // namespace

std::string PostHooksOnlyCommand(const v1::RestoreRequest& request) {
  return absl::StrCat(RestoreCommandLine(request), " --post-hooks-only");
}

std::string RestoreCommandLine(const v1::RestoreRequest& request) {
  std::string out = absl::StrCat("dxbackup restore ", request.set_id());
  for (const auto& [flag, value] : {std::pair{"--target", &request.target()},
                                    {"--to", &request.to_dir()},
                                    {"--database-to", &request.database_to()},
                                    {"--to-namespace", &request.to_namespace()},
                                    {"--to-release", &request.to_release()},
                                    {"--agent", &request.to_agent()}}) {
    if (!value->empty()) absl::StrAppend(&out, " ", flag, " ", *value);
  }
  if (request.clone()) absl::StrAppend(&out, " --clone");
  return out;
}

absl::Status TrimForRequest(const v1::RestoreRequest& request,
                            RestorePlan* plan) {
  bool by_hand = false;
  for (const RestoreStep& step : plan->steps) by_hand = by_hand || ByHand(step);
  if (!request.post_hooks_only()) {
    if (by_hand && !plan->post.empty()) {
      plan->held_post = absl::StrCat(
          "not run: DX stays stopped until the external backup is restored "
          "by hand; then run `",
          PostHooksOnlyCommand(request), "`");
      // What needs DX up again waits with the hooks, and goes back on its
      // own once DX runs.
      for (const RestoreStep& step : plan->steps) {
        if (step.database == nullptr || !RunsWhileUp(*step.database)) continue;
        // Into the same deployment (a clone's flags kept).
        v1::RestoreRequest alone;
        alone.set_set_id(request.set_id());
        alone.set_target(step.job.target());
        alone.set_to_namespace(request.to_namespace());
        alone.set_to_release(request.to_release());
        alone.set_clone(request.clone());
        absl::StrAppend(&plan->held_post, ", then `", RestoreCommandLine(alone),
                        "`");
      }
    }
    return absl::OkStatus();
  }
  if (!by_hand) {
    return absl::FailedPreconditionError(absl::StrCat(
        "set ", plan->set.id(),
        " has no external database restored by hand, so its restores run "
        "their post-hooks themselves; --post-hooks-only finishes only such "
        "a restore"));
  }
  if (plan->post.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no post-hook to run for this restore of set ", plan->set.id(),
        ": no connected agent of the components it stopped has one (start "
        "them by hand, e.g. scale the StatefulSet back up)"));
  }
  plan->steps.clear();
  plan->pre.clear();
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
