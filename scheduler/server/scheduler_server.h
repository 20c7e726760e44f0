// SchedulerServer is the whole scheduler in one object: catalog, store,
// agent registry, job board, runners and both gRPC services, listening on
// one address, with gRPC's health service (grpc.health.v1.Health: SERVING
// until Shutdown) and, if asked, Prometheus metrics over HTTP and the web
// dashboard. main() and
// integration tests build it the same way.
//
//   auto server = SchedulerServer::Start(options, &common::RealTime());
//   std::cout << (*server)->port();
//   ... (*server)->Shutdown();
//
// On start it fails sets left running by an earlier process and removes
// store files that no catalog row names; as one of several active
// replicas (Options::advertise) it does so for each deployment it takes
// over instead. Thread-safe.
#ifndef DXBACKUP_SCHEDULER_SERVER_SCHEDULER_SERVER_H_
#define DXBACKUP_SCHEDULER_SERVER_SCHEDULER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "common/tls.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/crypto/key_grants.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/periodic/owed_post_hooks_task.h"
#include "scheduler/replicas/deployment_router.h"
#include "scheduler/runs/run_cancels.h"
#include "scheduler/sets/set_copier.h"
#include "scheduler/sets/set_leases.h"

namespace dxbackup::scheduler {

class Catalog;
class ArtifactStore;
class AgentRegistry;
class SchedulerMetrics;
class JobBoard;
class Notifier;
class NoticeTee;
class BackupSetRunner;
class RestoreRunner;
class DrillRunner;
class FileIndexRetention;
class FileLists;
class Pruner;
class TieredFileIndex;
class TokenAuth;
class PolicyLoop;
class AgentServiceImpl;
class AdminServiceImpl;
class ReplicaLease;
class CatalogLock;
class LeaseRouter;
class OrphanAdoptionTask;
namespace web {
class LiveRuns;
class Dashboard;
class HttpServer;
}  // namespace web

class SchedulerServer {
 public:
  struct Options {
    std::string listen = "127.0.0.1:7070";  // HOST:PORT; port 0 picks one
    common::TlsFlags tls;  // TLS, or explicitly plaintext on loopback
    std::string data_dir;
    v1::SchedulerConfig config;
    std::string metrics_listen;  // HOST:PORT for /metrics; "" serves none
    // HOST:PORT for the web dashboard; "" serves none. Over HTTPS with
    // the gRPC certificate (`tls`); plain HTTP only where the gRPC side
    // may be plaintext, on a loopback address.
    std::string web_listen;
    // On a shared PostgreSQL catalog, the fence epoch this scheduler took
    // as the active one (standby.h): a write that finds another stops the
    // process at once. 0: unfenced.
    int64_t catalog_fence_epoch = 0;
    // On a shared catalog, whether this scheduler's lock was confirmed
    // lately (ActiveScheduler::RecentlyConfirmed): what leaves the process
    // without a catalog write (a webhook's POST) waits while it is not.
    // Empty: always.
    std::function<bool()> still_active;
    // Active replicas (docs/architecture.md, "Active replicas"): this
    // scheduler's HOST:PORT as the other replicas send agents and the CLI
    // to it. It then shares the PostgreSQL catalog with replicas that all
    // serve: it holds a lease (replicas/replica_lease.h), runs only the
    // deployments it owns and takes over those a stopped replica left,
    // one by one, instead of recovering every deployment at start. It
    // also listens there when `listen` does not reach it, and shares
    // `listen` with the other replicas (SO_REUSEPORT: a Service's
    // address, on one host). "": the only scheduler, or the active one
    // among standbys.
    std::string advertise;
    // For tests: where agents and deployment calls are routed instead of
    // by the replicas mode's own router (replicas/deployment_router.h).
    // Must outlive the server.
    DeploymentRouter* router = nullptr;
  };

  // `time` (how every part reads the time and waits for it) must outlive
  // the server.
  static absl::StatusOr<std::unique_ptr<SchedulerServer>> Start(
      Options options, const common::TimeSource* time);
  ~SchedulerServer();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }  // 0: not served
  int web_port() const { return web_port_; }          // 0: not served
  // The start of a graceful stop: health probes see NOT_SERVING from here
  // on (so that a Service sends new callers elsewhere), while everything
  // else goes on until Shutdown(). Idempotent.
  void Drain();
  // Fails running jobs, stops serving and joins every thread. Idempotent.
  void Shutdown();

  JobBoard* board() { return board_.get(); }
  DrillRunner* drills() { return drills_.get(); }
  Catalog* catalog() { return catalog_.get(); }
  AgentRegistry* registry() { return registry_.get(); }

 private:
  SchedulerServer() = default;
  // Starts the dashboard on options_.web_listen.
  absl::Status ServeWeb();
  // Ends, for every deployment, what an earlier scheduler left running
  // (the sets, holds and scale-downs), finding first the post-hooks owed.
  absl::Status RecoverEveryDeployment(std::vector<OwedPostHooks>* owed);
  // The metrics' gauges of one deployment's newest complete set and drill,
  // from the catalog ("" "": of every deployment).
  absl::Status SeedMetrics(const std::string& namespace_,
                           const std::string& release);
  // Replicas mode: takes the lease and makes the router.
  absl::Status JoinReplicas(const common::TimeSource* time);
  // Ends what the stopped scheduler `previous` left of one deployment
  // this replica has just claimed (LeaseRouter::TakeOverFn).
  absl::Status TakeOver(const std::string& namespace_,
                        const std::string& release,
                        const std::string& previous);

  Options options_;
  const common::Clock* clock_ = nullptr;
  int port_ = 0;
  int metrics_port_ = 0;
  int web_port_ = 0;
  bool stopped_ = false;
  std::unique_ptr<Catalog> catalog_;
  // Active replicas only: this replica's lease, where deployments are run,
  // and the task adopting what stopped replicas left. Declared after the
  // catalog and before what routes through them.
  // The active scheduler's lock, shared with the other replicas
  // (CatalogLock::TryShareAsReplica).
  std::unique_ptr<CatalogLock> mode_lock_;
  std::unique_ptr<ReplicaLease> lease_;
  std::unique_ptr<LeaseRouter> router_;
  std::unique_ptr<OrphanAdoptionTask> adoption_;
  std::unique_ptr<ArtifactStore> store_;
  // The policies' copy_to.s3 buckets (copy_stores_ names owned ones).
  std::vector<std::unique_ptr<ArtifactStore>> owned_copy_stores_;
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<crypto::KeyGrants> grants_;
  CopyStores copy_stores_;
  std::unique_ptr<TokenAuth> auth_;
  std::unique_ptr<AgentRegistry> registry_;
  std::unique_ptr<SchedulerMetrics> metrics_;
  // The dashboard's view of running jobs: a board observer, so declared
  // before the board (destroyed after it).
  std::unique_ptr<web::LiveRuns> live_runs_;
  std::unique_ptr<JobBoard> board_;
  // Outlives what tells it (runners, the policy loop, the admin service).
  std::unique_ptr<Notifier> notifier_;
  // What the runners, the policy loop and the admin service tell: the
  // notifier, then the metrics (a set found corrupt).
  std::unique_ptr<NoticeTee> notices_;
  // Shared by the backups (choosing a base) and the pruner (removing
  // sets); declared before both, so it outlives them.
  std::mutex set_removal_;
  // The sets and restores running, to be cancelled; outlives the runners.
  RunCancels run_cancels_;
  // The sets restores read now (kept by retention); outlives the runners.
  SetLeases set_leases_;
  // Older sets' file index in the store: read (file_index_, what the
  // admin service and drills read) and moved there (after retention).
  std::unique_ptr<FileLists> file_lists_;
  std::unique_ptr<TieredFileIndex> file_index_;
  std::unique_ptr<FileIndexRetention> file_index_retention_;
  std::unique_ptr<BackupSetRunner> backups_;
  std::unique_ptr<RestoreRunner> restores_;
  std::unique_ptr<DrillRunner> drills_;
  std::unique_ptr<Pruner> pruner_;
  std::unique_ptr<PolicyLoop> policies_;
  std::unique_ptr<AgentServiceImpl> agent_service_;
  std::unique_ptr<AdminServiceImpl> admin_service_;
  std::unique_ptr<grpc::Server> server_;
  // Last: stopped (destroyed) before anything its pages read.
  std::unique_ptr<web::Dashboard> dashboard_;
  std::unique_ptr<web::HttpServer> web_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SERVER_SCHEDULER_SERVER_H_
