#include "scheduler/admin/admin_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/grpc_status.h"
#include "common/replica_redirect.h"
#include "common/resource_names.h"
#include "common/utf8_escape.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/runs/restore_plan.h"

namespace dxbackup::scheduler {

namespace {

// The call's token must have `role` (when the scheduler checks tokens).
grpc::Status Denied(TokenAuth* auth, const grpc::ServerContext* context,
                    v1::Token::Role role) {
  if (auth == nullptr) return grpc::Status::OK;
  return common::ToGrpcStatus(auth->Require(*context, role));
}

}  // namespace

namespace {

// Streams a run's events to the caller until the run ends or the caller
// leaves; first, its id and how to cancel it. `what` names the id: "set "
// (a restore's id says "restore-" itself).
grpc::Status Follow(const StartedRun& run, const char* what,
                    grpc::ServerWriter<v1::SetEvent>* writer) {
  size_t next = 0;
  v1::SetEvent event;
  event.set_message(absl::StrCat(what, run.id, " started; `dxbackup cancel ",
                                 run.id, "` stops it"));
  if (!writer->Write(event)) return grpc::Status::OK;
  event.Clear();
  while (run.events->WaitNext(&next, &event)) {
    if (!writer->Write(event)) break;  // the run goes on without a watcher
  }
  return grpc::Status::OK;
}

}  // namespace

AdminServiceImpl::AdminServiceImpl(const Parts& parts)
    : sets_(parts.sets),
      jobs_(parts.jobs),
      files_(parts.files),
      registry_(parts.registry),
      auth_(parts.auth),
      backups_(parts.backups),
      restores_(parts.restores),
      pruner_(parts.pruner),
      policies_(parts.policies),
      cancels_(parts.cancels),
      drills_(parts.drills),
      leases_(parts.leases),
      file_index_(parts.file_index),
      router_(parts.router),
      replicas_(parts.replicas),
      verifier_(parts.sets, parts.store, parts.clock, parts.keys,
                parts.notices),
      exporter_(parts.sets, parts.store, parts.clock, parts.keys) {
  if (parts.leases != nullptr) {
    verifier_.LeaseFrom(parts.leases);
  }
}

grpc::Status AdminServiceImpl::RouteTo(grpc::ServerContext* context,
                                       const std::string& namespace_,
                                       const std::string& release) {
  if (router_ == nullptr) return grpc::Status::OK;
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string*>{"namespace", &namespace_},
        {"release", &release}}) {
    if (absl::Status s = common::CheckDnsLabel(field, *value); !s.ok()) {
      return common::ToGrpcStatus(s);
    }
  }
  absl::StatusOr<std::string> owner = router_->Route(namespace_, release);
  if (!owner.ok()) return common::ToGrpcStatus(owner.status());
  if (owner->empty()) return grpc::Status::OK;
  context->AddTrailingMetadata(common::kOwnerAddressKey, *owner);
  return grpc::Status(
      grpc::StatusCode::UNAVAILABLE,
      absl::StrCat(namespace_, "/", release,
                   " is run by the scheduler replica at ", *owner,
                   "; calls about it go there (the CLI follows)"));
}

grpc::Status AdminServiceImpl::RouteToSetOf(grpc::ServerContext* context,
                                            const std::string& set_id) {
  if (router_ == nullptr) return grpc::Status::OK;
  absl::StatusOr<v1::BackupSet> set = sets_->GetSet(set_id);
  if (set.ok()) return RouteTo(context, set->namespace_(), set->release());
  // A restore's id: the deployment it holds, if it holds one.
  absl::StatusOr<std::vector<v1::DeploymentHold>> holds = sets_->Holds();
  if (!holds.ok()) return grpc::Status::OK;
  for (const v1::DeploymentHold& hold : *holds) {
    if (hold.restore_id() == set_id) {
      return RouteTo(context, hold.namespace_(), hold.release());
    }
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::ListAgents(grpc::ServerContext* context,
                                          const v1::ListAgentsRequest*,
                                          v1::ListAgentsResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::VIEWER);
      !denied.ok()) {
    return denied;
  }
  for (const v1::AgentInfo& agent : registry_->AllAgents()) {
    *response->add_agents() = agent;
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::ForgetAgent(
    grpc::ServerContext* context, const v1::ForgetAgentRequest* request,
    v1::ForgetAgentResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  if (router_ != nullptr) {
    // Forgotten where its deployment is run: only there is it known
    // whether it is connected.
    if (absl::Status valid =
            common::CheckAgentId("agent_id", request->agent_id());
        !valid.ok()) {
      return common::ToGrpcStatus(valid);
    }
    const std::vector<std::string> names =
        absl::StrSplit(request->agent_id(), '/');
    if (grpc::Status elsewhere = RouteTo(context, names[0], names[1]);
        !elsewhere.ok()) {
      return elsewhere;
    }
  }
  absl::StatusOr<v1::AgentInfo> forgotten =
      registry_->Forget(request->agent_id());
  if (!forgotten.ok()) return common::ToGrpcStatus(forgotten.status());
  *response->mutable_agent() = std::move(*forgotten);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Backup(
    grpc::ServerContext* context, const v1::BackupRequest* request,
    grpc::ServerWriter<v1::SetEvent>* writer) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  if (grpc::Status elsewhere =
          RouteTo(context, request->namespace_(), request->release());
      !elsewhere.ok()) {
    return elsewhere;
  }
  absl::StatusOr<StartedRun> run = backups_->Start(*request);
  if (!run.ok()) return common::ToGrpcStatus(run.status());
  return Follow(*run, "set ", writer);
}

grpc::Status AdminServiceImpl::ListSets(grpc::ServerContext* context,
                                        const v1::ListSetsRequest* request,
                                        v1::ListSetsResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::VIEWER);
      !denied.ok()) {
    return denied;
  }
  auto sets = sets_->ListSets(*request);
  if (!sets.ok()) return common::ToGrpcStatus(sets.status());
  for (const v1::BackupSet& set : *sets) *response->add_sets() = set;
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::GetSet(grpc::ServerContext* context,
                                      const v1::GetSetRequest* request,
                                      v1::SetDetail* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::VIEWER);
      !denied.ok()) {
    return denied;
  }
  auto set = sets_->GetSet(request->set_id());
  if (!set.ok()) return common::ToGrpcStatus(set.status());
  *response->mutable_set() = *set;
  auto artifacts = sets_->ListArtifacts(set->id());
  if (!artifacts.ok()) return common::ToGrpcStatus(artifacts.status());
  for (const v1::Artifact& a : *artifacts) *response->add_artifacts() = a;
  auto jobs = jobs_->ListJobs(set->id());
  if (!jobs.ok()) return common::ToGrpcStatus(jobs.status());
  for (const v1::Job& j : *jobs) *response->add_jobs() = j;
  auto holds = sets_->Holds();
  if (!holds.ok()) return common::ToGrpcStatus(holds.status());
  for (const v1::DeploymentHold& hold : *holds) {
    if (hold.set_id() == set->id()) *response->mutable_hold() = hold;
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Restore(
    grpc::ServerContext* context, const v1::RestoreRequest* request,
    grpc::ServerWriter<v1::SetEvent>* writer) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  if (router_ != nullptr) {
    // Run where the agents it restores to are.
    if (auto set = sets_->GetSet(request->set_id()); set.ok()) {
      const RestoreDestination to = DestinationOf(*request, *set);
      if (grpc::Status elsewhere = RouteTo(context, to.namespace_, to.release);
          !elsewhere.ok()) {
        return elsewhere;
      }
    }
  }
  absl::StatusOr<StartedRun> run = restores_->Start(*request);
  if (!run.ok()) return common::ToGrpcStatus(run.status());
  return Follow(*run, "", writer);
}

grpc::Status AdminServiceImpl::ListPolicies(
    grpc::ServerContext* context, const v1::ListPoliciesRequest*,
    v1::ListPoliciesResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::VIEWER);
      !denied.ok()) {
    return denied;
  }
  *response = policies_->Describe();
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::RunPolicy(
    grpc::ServerContext* context, const v1::RunPolicyRequest* request,
    grpc::ServerWriter<v1::SetEvent>* writer) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  auto ticket = policies_->RunNow(request->policy());
  if (request->here_only() && absl::IsFailedPrecondition(ticket.status())) {
    // Another replica runs every deployment it covers.
    v1::SetEvent none;
    none.set_done(true);
    none.set_ok(true);
    none.set_message(absl::StrCat("policy ", request->policy(),
                                  ": no deployment it covers runs on this "
                                  "scheduler replica"));
    writer->Write(none);
    return grpc::Status::OK;
  }
  if (!ticket.ok()) return common::ToGrpcStatus(ticket.status());
  if (router_ != nullptr && !request->here_only()) {
    v1::SetEvent partial;
    partial.set_message(
        "this scheduler replica runs the policy for the deployments it owns "
        "only; a dxbackup CLI of this version asks every replica");
    writer->Write(partial);
  }
  size_t left = ticket->keys.size();
  bool all_complete = true;
  policies_->Follow(*ticket, [&](const v1::BackupSet& set) {
    all_complete = all_complete && set.status() == v1::SET_COMPLETE;
    v1::SetEvent event;
    event.set_set_id(set.id());
    *event.mutable_set() = set;
    event.set_done(--left == 0);
    event.set_ok(set.status() == v1::SET_COMPLETE &&
                 (left > 0 || all_complete));
    event.set_message(absl::StrCat(
        set.namespace_(), "/", set.release(), ": set ",
        set.id().empty() ? "not started" : set.id(), " ",
        set.status() == v1::SET_COMPLETE ? "complete"
                                         : "failed: " + set.reason()));
    return writer->Write(event) && !context->IsCancelled();
  });
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Prune(grpc::ServerContext* context,
                                     const v1::PruneRequest* request,
                                     v1::PruneResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  auto result = pruner_->Prune(request->dry_run(), request->policy());
  if (!result.ok()) return common::ToGrpcStatus(result.status());
  if (!request->dry_run() && file_index_ != nullptr) {
    file_index_->RequestAll();  // on its own thread: maybe hours of moves
  }
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::ListFiles(
    grpc::ServerContext* context, const v1::ListFilesRequest* request,
    grpc::ServerWriter<v1::FileBatch>* writer) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::VIEWER);
      !denied.ok()) {
    return denied;
  }
  auto set = sets_->GetSet(request->set_id());
  if (!set.ok()) return common::ToGrpcStatus(set.status());
  constexpr int kBatch = 1000;
  v1::FileBatch batch;
  bool open = true;
  absl::Status s = files_->ForEachFile(*request, [&](const v1::IndexedFile& f) {
    *batch.add_files() = f;
    if (batch.files_size() == kBatch) {
      open = writer->Write(batch) && !context->IsCancelled();
      batch.Clear();
    }
    return open;
  });
  if (!s.ok()) return common::ToGrpcStatus(s);
  if (open && batch.files_size() > 0) writer->Write(batch);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::FindFiles(grpc::ServerContext* context,
                                         const v1::FindFilesRequest* request,
                                         v1::FindFilesResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::VIEWER);
      !denied.ok()) {
    return denied;
  }
  if (request->pattern().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "find needs a pattern, e.g. '*/wps.properties'");
  }
  auto found = files_->FindFiles(*request);
  if (!found.ok()) return common::ToGrpcStatus(found.status());
  *response = std::move(*found);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Verify(grpc::ServerContext* context,
                                      const v1::VerifyRequest* request,
                                      v1::VerifyResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  // Read where the set's deployment is run: that replica's leases keep
  // its pruning off the set while it is read.
  if (grpc::Status elsewhere = RouteToSetOf(context, request->set_id());
      !elsewhere.ok()) {
    return elsewhere;
  }
  auto given = crypto::ParseGivenIdentities(request->identities());
  if (!given.ok()) return common::ToGrpcStatus(given.status());
  auto verified = verifier_.Verify(request->set_id(), request->deep(), *given);
  if (!verified.ok()) return common::ToGrpcStatus(verified.status());
  *response = std::move(*verified);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Export(grpc::ServerContext* context,
                                      const v1::ExportRequest* request,
                                      v1::ExportResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  // Read where the set's deployment is run: that replica's leases keep
  // its pruning off the set while it is read.
  if (grpc::Status elsewhere = RouteToSetOf(context, request->set_id());
      !elsewhere.ok()) {
    return elsewhere;
  }
  auto given = crypto::ParseGivenIdentities(request->identities());
  if (!given.ok()) return common::ToGrpcStatus(given.status());
  // Leased while its files are copied out: retention leaves it meanwhile.
  SetLeases::Lease lease;
  if (leases_ != nullptr) {
    auto taken = leases_->Take(request->set_id(), "an export");
    if (!taken.ok()) return common::ToGrpcStatus(taken.status());
    lease = *std::move(taken);
  }
  auto exported =
      exporter_.Export(request->set_id(), request->to_dir(), *given);
  if (!exported.ok()) return common::ToGrpcStatus(exported.status());
  *response = std::move(*exported);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::GetJob(grpc::ServerContext* context,
                                      const v1::GetJobRequest* request,
                                      v1::Job* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::VIEWER);
      !denied.ok()) {
    return denied;
  }
  absl::StatusOr<v1::Job> job = jobs_->GetJob(request->job_id());
  if (!job.ok()) return common::ToGrpcStatus(job.status());
  *response = *std::move(job);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::DeleteSet(grpc::ServerContext* context,
                                         const v1::DeleteSetRequest* request,
                                         v1::DeleteSetResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  if (grpc::Status elsewhere = RouteToSetOf(context, request->set_id());
      !elsewhere.ok()) {
    return elsewhere;
  }
  auto deleted = pruner_->Delete(request->set_id());
  if (!deleted.ok()) return common::ToGrpcStatus(deleted.status());
  *response = *std::move(deleted);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Cancel(grpc::ServerContext* context,
                                      const v1::CancelRequest* request,
                                      v1::CancelResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  if (cancels_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "this scheduler cannot cancel runs");
  }
  std::string who = "the operator";
  if (auth_ != nullptr && auth_->enabled()) {
    if (auto caller = auth_->Caller(*context); caller.ok()) {
      who = absl::StrCat("token ", caller->name());
    }
  }
  std::string why = absl::StrCat("cancelled by ", who);
  if (!request->reason().empty()) {
    absl::StrAppend(&why, ": ", common::EscapeToUtf8(request->reason()));
  }
  if (grpc::Status elsewhere = RouteToSetOf(context, request->id());
      !elsewhere.ok()) {
    return elsewhere;
  }
  absl::Status s = cancels_->Cancel(request->id(), why);
  if (!s.ok()) return common::ToGrpcStatus(s);
  response->set_message(
      absl::StrCat(request->id(), ": ", why,
                   "; what had not finished stops, and the post-hooks run"));
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::ListReplicas(
    grpc::ServerContext* context, const v1::ListReplicasRequest*,
    v1::ListReplicasResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::VIEWER);
      !denied.ok()) {
    return denied;
  }
  if (replicas_ == nullptr) return grpc::Status::OK;
  auto live = replicas_->LiveReplicas();
  if (!live.ok()) return common::ToGrpcStatus(live.status());
  for (const ReplicaCatalog::Replica& r : *live) {
    v1::ReplicaInfo* info = response->add_replicas();
    info->set_id(r.id);
    info->set_address(r.address);
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Drill(grpc::ServerContext* context,
                                     const v1::DrillRequest* request,
                                     v1::DrillResponse* response) {
  if (grpc::Status denied = Denied(auth_, context, v1::Token::OPERATOR);
      !denied.ok()) {
    return denied;
  }
  if (drills_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "this scheduler runs no drills");
  }
  if (router_ != nullptr) {
    if (auto set = sets_->GetSet(request->set_id()); set.ok()) {
      // A scratch target needs both names (the drill says so otherwise).
      const bool scratch =
          !request->to_namespace().empty() && !request->to_release().empty();
      if (grpc::Status elsewhere = RouteTo(
              context, scratch ? request->to_namespace() : set->namespace_(),
              scratch ? request->to_release() : set->release());
          !elsewhere.ok()) {
        return elsewhere;
      }
    }
  }
  auto drilled = drills_->Drill(*request);
  if (!drilled.ok()) return common::ToGrpcStatus(drilled.status());
  *response = *std::move(drilled);
  return grpc::Status::OK;
}

}  // namespace dxbackup::scheduler
