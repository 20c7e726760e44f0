// AdminServiceImpl serves the CLI (proto/dxbackup/v1/admin.proto). Backup
// and Restore start a run and stream its events until it ends; a caller
// that goes away does not stop the run. Among active replicas, a call that
// acts for one deployment (backup, restore, drill, delete, cancel, forget
// an agent) or reads one set's stored bytes (verify, export: the owner's
// leases keep its pruning off them) is served by the replica that runs
// it: another ends it UNAVAILABLE with that replica's address (common/
// replica_redirect.h), which the CLI follows. Listings (sets, files,
// policies, agents) are served by any replica, from the shared catalog.
#ifndef DXBACKUP_SCHEDULER_ADMIN_ADMIN_SERVICE_H_
#define DXBACKUP_SCHEDULER_ADMIN_ADMIN_SERVICE_H_

#include "common/clock.h"
#include "dxbackup/v1/admin.grpc.pb.h"
#include "scheduler/access/token_auth.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/file_index.h"
#include "scheduler/catalog/job_catalog.h"
#include "scheduler/catalog/replica_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/drills/drill_runner.h"
#include "scheduler/periodic/policy_loop.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/replicas/deployment_router.h"
#include "scheduler/runs/backup_set_runner.h"
#include "scheduler/runs/restore_runner.h"
#include "scheduler/runs/run_cancels.h"
#include "scheduler/sets/set_exporter.h"
#include "scheduler/sets/set_verifier.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

class AdminServiceImpl : public v1::AdminService::Service {
 public:
  // What the service uses; all must outlive it.
  struct Parts {
    // Sets and artifacts listed, shown, verified and exported.
    SetCatalog* sets;
    // A set's jobs, shown with it.
    JobCatalog* jobs;
    // The file index listed and searched.
    FileIndex* files;
    // Artifacts read back by verify and export.
    ArtifactStore* store;
    // How verify --deep and an export in clear decrypt.
    const crypto::KeyRing* keys;
    // Agents listed and forgotten.
    AgentRegistry* registry;
    // Verification and export times.
    const common::Clock* clock;
    // Callers' roles checked; nullptr: no token checks.
    TokenAuth* auth;
    // Backup, Restore, Prune and the policies' calls.
    BackupSetRunner* backups;
    RestoreRunner* restores;
    Pruner* pruner;
    PolicyLoop* policies;
    // The running sets and restores, cancelled by id; nullptr: none can be.
    RunCancels* cancels = nullptr;
    // Told when `verify` finds a set corrupt; nullptr: nobody.
    NoticeSink* notices = nullptr;
    // Restore drills; nullptr: `drill` is refused.
    DrillRunner* drills = nullptr;
    // Sets `verify` and `export` read are leased there, so that retention
    // does not remove one under them; nullptr: none.
    SetLeases* leases = nullptr;
    // After a prune (not a dry run), older sets' file index is moved to
    // the store, in the background; nullptr: it stays.
    FileIndexRetention* file_index = nullptr;
    // Among active replicas, where each deployment is run; nullptr: here.
    DeploymentRouter* router = nullptr;
    // Among active replicas, the live ones (ListReplicas); nullptr: none.
    ReplicaCatalog* replicas = nullptr;
  };
  explicit AdminServiceImpl(const Parts& parts);

  grpc::Status ListAgents(grpc::ServerContext* context,
                          const v1::ListAgentsRequest* request,
                          v1::ListAgentsResponse* response) override;
  grpc::Status ForgetAgent(grpc::ServerContext* context,
                           const v1::ForgetAgentRequest* request,
                           v1::ForgetAgentResponse* response) override;
  grpc::Status Backup(grpc::ServerContext* context,
                      const v1::BackupRequest* request,
                      grpc::ServerWriter<v1::SetEvent>* writer) override;
  grpc::Status ListSets(grpc::ServerContext* context,
                        const v1::ListSetsRequest* request,
                        v1::ListSetsResponse* response) override;
  grpc::Status GetSet(grpc::ServerContext* context,
                      const v1::GetSetRequest* request,
                      v1::SetDetail* response) override;
  grpc::Status Restore(grpc::ServerContext* context,
                       const v1::RestoreRequest* request,
                       grpc::ServerWriter<v1::SetEvent>* writer) override;
  grpc::Status ListPolicies(grpc::ServerContext* context,
                            const v1::ListPoliciesRequest* request,
                            v1::ListPoliciesResponse* response) override;
  grpc::Status RunPolicy(grpc::ServerContext* context,
                         const v1::RunPolicyRequest* request,
                         grpc::ServerWriter<v1::SetEvent>* writer) override;
  grpc::Status Prune(grpc::ServerContext* context,
                     const v1::PruneRequest* request,
                     v1::PruneResponse* response) override;
  grpc::Status ListFiles(grpc::ServerContext* context,
                         const v1::ListFilesRequest* request,
                         grpc::ServerWriter<v1::FileBatch>* writer) override;
  grpc::Status FindFiles(grpc::ServerContext* context,
                         const v1::FindFilesRequest* request,
                         v1::FindFilesResponse* response) override;
  grpc::Status Verify(grpc::ServerContext* context,
                      const v1::VerifyRequest* request,
                      v1::VerifyResponse* response) override;
  grpc::Status Export(grpc::ServerContext* context,
                      const v1::ExportRequest* request,
                      v1::ExportResponse* response) override;
  grpc::Status GetJob(grpc::ServerContext* context,
                      const v1::GetJobRequest* request,
                      v1::Job* response) override;
  grpc::Status Cancel(grpc::ServerContext* context,
                      const v1::CancelRequest* request,
                      v1::CancelResponse* response) override;
  grpc::Status ListReplicas(grpc::ServerContext* context,
                            const v1::ListReplicasRequest* request,
                            v1::ListReplicasResponse* response) override;
  grpc::Status Drill(grpc::ServerContext* context,
                     const v1::DrillRequest* request,
                     v1::DrillResponse* response) override;
  grpc::Status DeleteSet(grpc::ServerContext* context,
                         const v1::DeleteSetRequest* request,
                         v1::DeleteSetResponse* response) override;

 private:
  // OK when this scheduler runs namespace/release (checked as DNS labels
  // first); otherwise the status that sends the caller to the replica
  // that does, its address in `context`'s trailing metadata.
  grpc::Status RouteTo(grpc::ServerContext* context,
                       const std::string& namespace_,
                       const std::string& release);
  // RouteTo the deployment of set `set_id`, or of the restore of that id
  // that holds one (OK when neither is known: the call itself says so).
  grpc::Status RouteToSetOf(grpc::ServerContext* context,
                            const std::string& set_id);

  SetCatalog* sets_;
  JobCatalog* jobs_;
  FileIndex* files_;
  AgentRegistry* registry_;
  TokenAuth* auth_;
  BackupSetRunner* backups_;
  RestoreRunner* restores_;
  Pruner* pruner_;
  PolicyLoop* policies_;
  RunCancels* cancels_;
  DrillRunner* drills_;
  SetLeases* leases_;
  FileIndexRetention* file_index_;
  DeploymentRouter* router_;
  ReplicaCatalog* replicas_;
  SetVerifier verifier_;
  SetExporter exporter_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_ADMIN_ADMIN_SERVICE_H_
