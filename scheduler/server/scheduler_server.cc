#include "scheduler/server/scheduler_server.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/replica_redirect.h"
#include "common/secret_file.h"
#include "scheduler/access/token_auth.h"
#include "scheduler/admin/admin_service.h"
#include "scheduler/agents/agent_service.h"
#include "scheduler/catalog/catalog_lock.h"
#include "scheduler/catalog/postgres_catalog.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/metrics/metrics.h"
#include "scheduler/notify/notice_tee.h"
#include "scheduler/notify/notifier.h"
#include "scheduler/periodic/file_index_retention.h"
#include "scheduler/periodic/policy_loop.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/replicas/deployment_takeover.h"
#include "scheduler/replicas/lease_router.h"
#include "scheduler/replicas/orphan_adoption.h"
#include "scheduler/replicas/replica_lease.h"
#include "scheduler/runs/deployment_holds.h"
#include "scheduler/runs/scale_back.h"
#include "scheduler/sets/file_lists.h"
#include "scheduler/sets/tiered_file_index.h"
#include "scheduler/store/directory_store.h"
#include "scheduler/store/s3/s3_config.h"
#include "scheduler/store/s3/s3_store.h"
#include "scheduler/store/store_reconcile.h"
#include "scheduler/web/dashboard.h"
#include "scheduler/web/http_server.h"
#include "scheduler/web/live_runs.h"

namespace dxbackup::scheduler {
namespace {

// Names this scheduler in its notifications.
std::string HostName() {
  char name[256] = "";
  if (gethostname(name, sizeof(name) - 1) != 0) return "dxbackup-scheduler";
  return name;
}

// The configured store: a bucket (store.s3) or <data-dir>/store.
absl::StatusOr<std::unique_ptr<ArtifactStore>> OpenStore(
    const v1::SchedulerConfig& config, const std::string& data_dir) {
  if (config.store().has_s3()) {
    auto options = s3::S3StoreOptionsFrom(config.store().s3());
    if (!options.ok()) return options.status();
    auto store = s3::S3Store::Open(std::move(*options));
    if (!store.ok()) return store.status();
    DXLOG(INFO) << "store: s3://" << config.store().s3().bucket() << "/"
                << config.store().s3().prefix() << " at "
                << config.store().s3().endpoint();
    return std::unique_ptr<ArtifactStore>(std::move(*store));
  }
  auto store = std::make_unique<DirectoryStore>(data_dir + "/store");
  if (absl::Status st = store->Init(); !st.ok()) return st;
  return std::unique_ptr<ArtifactStore>(std::move(store));
}

// Whether a server listening on `listen` (HOST:PORT) is reached at
// `address` too: the same port, on the same host or all of them.
bool Listens(const std::string& listen, const std::string& address) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos ||
      listen.substr(colon) != address.substr(address.rfind(':'))) {
    return false;
  }
  const std::string host = common::HostOf(listen);
  return host.empty() || host == "0.0.0.0" || host == "::" ||
         host == common::HostOf(address);
}

// <data-dir>/spool, where database dumps are written whole for
// pg_restore --jobs: made private, and emptied of what a restore running
// when the scheduler stopped left there. "" (dumps are streamed) when it
// cannot be made.
std::string SpoolDir(const std::string& data_dir) {
  const std::string spool = data_dir + "/spool";
  std::error_code ec;
  std::filesystem::remove_all(spool, ec);
  if (!ec) std::filesystem::create_directory(spool, ec);
  if (!ec) {
    std::filesystem::permissions(spool, std::filesystem::perms::owner_all, ec);
  }
  if (ec) {
    DXLOG(WARNING) << "cannot prepare " << spool << " (" << ec.message()
                   << "): database restores stream their dumps, without "
                      "pg_restore --jobs";
    return "";
  }
  return spool;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SchedulerServer>> SchedulerServer::Start(
    Options options, const common::TimeSource* time) {
  const common::Clock* clock = time;
  auto credentials = common::ServerCredentials(options.tls, options.listen);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<SchedulerServer> s(new SchedulerServer);
  s->options_ = std::move(options);
  s->clock_ = clock;
  const std::string& dir = s->options_.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create data dir ", dir, ": ", ec.message()));
  }
  const bool replicas = !s->options_.advertise.empty();
  s->options_.advertise = common::BracketedAddress(s->options_.advertise);
  if (replicas && !s->options_.config.catalog().has_postgres()) {
    return absl::InvalidArgumentError(
        "--advertise runs this scheduler as one of several active replicas, "
        "which share a PostgreSQL catalog: give catalog.postgres in the "
        "config, or leave --advertise out");
  }
  if (replicas && !common::ValidReplicaAddress(s->options_.advertise)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--advertise \"", s->options_.advertise,
                     "\": give HOST:PORT, the address other replicas send "
                     "agents and the CLI to (the pod's IP and port)"));
  }
  // SQLite in the data directory, or the PostgreSQL the config names.
  PostgresCatalog* postgres = nullptr;
  const auto stop_at_once = [](const absl::Status& fenced) {
    DXLOG(ERROR) << fenced.message() << ": stopping at once";
    std::_Exit(1);
  };
  if (s->options_.config.catalog().has_postgres()) {
    auto catalog =
        PostgresCatalog::Open(s->options_.config.catalog().postgres());
    if (!catalog.ok()) return catalog.status();
    (*catalog)->FenceWith(s->options_.catalog_fence_epoch, stop_at_once);
    postgres = catalog->get();
    s->catalog_ = std::move(*catalog);
  } else {
    auto catalog = SqliteCatalog::Open(dir + "/catalog.db");
    if (!catalog.ok()) return catalog.status();
    s->catalog_ = std::move(*catalog);
  }
  absl::Status st;
  std::vector<OwedPostHooks> owed;
  if (replicas) {
    // What stopped replicas left is ended deployment by deployment, as
    // each is taken over (TakeOver), not here: other replicas run theirs.
    st = s->JoinReplicas(time);
    if (!st.ok()) return st;
    // A write after the lease lapsed is refused, and stops the process.
    postgres->FenceAsReplica(s->lease_->id(), stop_at_once);
  } else {
    if (postgres != nullptr) {
      // Active replicas whose shared lock's session was lost while they
      // run: their work is theirs, not an earlier scheduler's to end.
      auto live = postgres->replicas().LiveReplicas();
      if (!live.ok()) return live.status();
      if (!live->empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the catalog is shared by ", live->size(),
            " active scheduler replica(s) (started with --advertise; ",
            live->front().id, " at ", live->front().address,
            "): a scheduler without --advertise would end their running "
            "sets; start this one with --advertise too, or stop them "
            "first"));
      }
    }
    st = s->RecoverEveryDeployment(&owed);
    if (!st.ok()) return st;
  }
  auto store = OpenStore(s->options_.config, dir);
  if (!store.ok()) return store.status();
  s->store_ = std::move(*store);
  s->store_->set_namespace_quota(static_cast<uint64_t>(
      s->options_.config.limits().max_store_bytes_per_namespace()));
  for (const v1::Policy& policy : s->options_.config.policies()) {
    if (!policy.copy_to().has_s3()) continue;
    auto options = s3::S3StoreOptionsFrom(policy.copy_to().s3());
    if (!options.ok()) {
      return absl::Status(options.status().code(),
                          absl::StrCat("policy ", policy.name(), "'s copy_to: ",
                                       options.status().message()));
    }
    auto bucket = s3::S3Store::Open(std::move(*options));
    if (!bucket.ok()) {
      return absl::Status(bucket.status().code(),
                          absl::StrCat("policy ", policy.name(), "'s copy_to: ",
                                       bucket.status().message()));
    }
    // What a crash left mid-copy: multipart uploads under its prefix
    // (not for a replica: another's copies may be going on).
    auto aborted = replicas ? absl::StatusOr<std::vector<std::string>>(
                                  std::vector<std::string>())
                            : (*bucket)->RemoveUnfinished("");
    if (!aborted.ok()) {
      return absl::Status(aborted.status().code(),
                          absl::StrCat("policy ", policy.name(), "'s copy_to: ",
                                       aborted.status().message()));
    }
    for (const std::string& key : *aborted) {
      DXLOG(WARNING) << "policy " << policy.name()
                     << "'s copy bucket: aborted the unfinished upload of "
                     << key;
    }
    s->copy_stores_[policy.name()] = bucket->get();
    s->owned_copy_stores_.push_back(std::move(*bucket));
  }
  auto keys = crypto::KeyRing::Load(s->options_.config);
  if (!keys.ok()) return keys.status();
  s->keys_ = std::move(*keys);
  s->grants_ = std::make_unique<crypto::KeyGrants>();
  for (const v1::EncryptionKey& key : s->options_.config.encryption().keys()) {
    DXLOG(INFO) << "encryption: "
                << (key.namespaces().empty()
                        ? std::string("every other namespace")
                        : absl::StrCat("namespaces ",
                                       absl::StrJoin(key.namespaces(), ", ")))
                << " for the keys in " << key.recipients_file();
  }
  if (!replicas) {
    auto known = s->catalog_->AllArtifactPaths();
    if (!known.ok()) return known.status();
    auto reconciled = Reconcile(
        *s->store_, *known,
        [&s](const std::string& id) { return s->catalog_->GetSet(id).ok(); });
    if (!reconciled.ok()) return reconciled.status();
    for (const std::string& path : reconciled->removed) {
      DXLOG(WARNING) << "removed " << path
                     << " from the store: no catalog row names it";
    }
    for (const std::string& path : reconciled->left) {
      DXLOG(WARNING) << "left " << path
                     << " in the store: its set is not in the catalog (not "
                        "this scheduler's; remove it by hand if it is junk)";
    }
  }

  s->auth_ = std::make_unique<TokenAuth>(s->options_.config.tokens_file());
  absl::Status tokens = s->auth_->Load();
  if (!tokens.ok()) return tokens;
  if (!s->auth_->enabled()) {
    DXLOG(WARNING) << "no tokens_file in the config: callers are not asked "
                      "for tokens (only TLS, if configured, gates them)";
  }
  s->registry_ = std::make_unique<AgentRegistry>(s->catalog_.get(), clock);
  s->board_ =
      std::make_unique<JobBoard>(s->catalog_.get(), s->catalog_.get(), clock);
  s->metrics_ =
      std::make_unique<SchedulerMetrics>(s->registry_.get(), s->catalog_.get());
  s->board_->AddObserver(s->metrics_.get());  // destroyed after the board
  s->live_runs_ = std::make_unique<web::LiveRuns>();
  s->board_->AddObserver(s->live_runs_.get());  // likewise
  if (replicas) {
    // What leaves the process without a catalog write waits while the
    // lease is not trusted.
    ReplicaLease* lease = s->lease_.get();
    s->options_.still_active = [lease] { return lease->Trusted(); };
  }
  // Notices not delivered are kept in the catalog: a restart, or the
  // scheduler that takes over, sends them.
  s->notifier_ = std::make_unique<Notifier>(
      s->options_.config.notifications(), time, HostName(), PostJson,
      s->catalog_.get(), s->options_.still_active,
      /*take_up_kept=*/!replicas);
  s->notices_ = std::make_unique<NoticeTee>(
      std::vector<NoticeSink*>{s->notifier_.get(), s->metrics_.get()});
  for (const v1::Webhook& webhook :
       s->options_.config.notifications().webhooks()) {
    DXLOG(INFO) << "notifications: webhook " << webhook.name() << " ("
                << v1::Webhook::Format_Name(webhook.format()) << ")";
    // Read at each delivery (a rotated Secret is taken), so not an error
    // now; but said now, not at the first failed set.
    if (!webhook.url_file().empty()) {
      if (auto url = common::ReadSecretFile(webhook.url_file()); !url.ok()) {
        DXLOG(WARNING) << "notifications: webhook " << webhook.name() << ": "
                       << url.status().message()
                       << "; its notifications fail until it can be read";
      }
    }
  }
  // A replica's gauges are of the deployments it runs, seeded as it
  // takes each over: another replica's would not move here, and would
  // look stale (past the RPO) to an alert.
  if (!replicas) {
    st = s->SeedMetrics("", "");
    if (!st.ok()) return st;
  }
  if (!s->options_.metrics_listen.empty()) {
    auto port = s->metrics_->Serve(s->options_.metrics_listen);
    if (!port.ok()) return port.status();
    s->metrics_port_ = *port;
  }
  const v1::SchedulerConfig& config = s->options_.config;
  Catalog* records = s->catalog_.get();
  // The file index as readers see it: older sets' from the store.
  s->file_lists_ = std::make_unique<FileLists>(records, records,
                                               s->store_.get(), s->keys_.get());
  s->file_index_ =
      std::make_unique<TieredFileIndex>(records, records, s->file_lists_.get());
  s->file_index_retention_ = std::make_unique<FileIndexRetention>(
      config, records, s->file_lists_.get(), &s->set_leases_);
  BackupSetRunner::Parts backup_parts;
  backup_parts.config = &config;
  backup_parts.sets = records;
  backup_parts.store = s->store_.get();
  backup_parts.keys = s->keys_.get();
  backup_parts.registry = s->registry_.get();
  backup_parts.board = s->board_.get();
  backup_parts.time = time;
  backup_parts.metrics = s->metrics_.get();
  backup_parts.set_removal = &s->set_removal_;
  backup_parts.cancels = &s->run_cancels_;
  backup_parts.notices = s->notices_.get();
  s->backups_ = std::make_unique<BackupSetRunner>(backup_parts);
  RestoreRunner::Parts restore_parts;
  restore_parts.config = &config;
  restore_parts.sets = records;
  restore_parts.store = s->store_.get();
  restore_parts.keys = s->keys_.get();
  restore_parts.grants = s->grants_.get();
  restore_parts.registry = s->registry_.get();
  restore_parts.board = s->board_.get();
  restore_parts.time = time;
  restore_parts.spool_dir = SpoolDir(dir);
  restore_parts.cancels = &s->run_cancels_;
  restore_parts.leases = &s->set_leases_;
  restore_parts.notices = s->notices_.get();
  s->restores_ = std::make_unique<RestoreRunner>(restore_parts);
  DrillRunner::Parts drill_parts;
  drill_parts.config = &config;
  drill_parts.sets = records;
  drill_parts.files = s->file_index_.get();
  drill_parts.store = s->store_.get();
  drill_parts.keys = s->keys_.get();
  drill_parts.restores = s->restores_.get();
  drill_parts.registry = s->registry_.get();
  drill_parts.board = s->board_.get();
  drill_parts.time = time;
  drill_parts.notices = s->notices_.get();
  drill_parts.metrics = s->metrics_.get();
  drill_parts.cancels = &s->run_cancels_;
  drill_parts.leases = &s->set_leases_;
  s->drills_ = std::make_unique<DrillRunner>(drill_parts);
  s->pruner_ = std::make_unique<Pruner>(config, records, s->store_.get(), clock,
                                        s->metrics_.get(), &s->set_removal_,
                                        &s->set_leases_);
  // A replica looks after the deployments it owns; the only scheduler
  // after every one.
  DeploymentScope mine;
  if (replicas) {
    ReplicaLease* lease = s->lease_.get();
    mine = [lease](const std::string& namespace_, const std::string& release) {
      return lease->Owns(namespace_, release);
    };
    s->pruner_->LimitTo(mine);
    s->file_index_retention_->LimitTo(mine);
    SchedulerServer* self = s.get();
    s->adoption_ = std::make_unique<OrphanAdoptionTask>(
        records, s->router_.get(), &s->catalog_->replicas(),
        [self] {
          std::vector<std::pair<std::string, std::string>> covered;
          for (const PlanKey& key : self->policies_->CoveredEverywhere()) {
            covered.emplace_back(key.namespace_, key.release);
          }
          return covered;
        },
        absl::FromUnixSeconds(clock->NowUnix()) + PolicySlots::kReconnectGrace);
  }
  PolicyLoop::Parts loop_parts;
  loop_parts.config = &config;
  loop_parts.sets = records;
  loop_parts.slots = records;
  loop_parts.store = s->store_.get();
  loop_parts.keys = s->keys_.get();
  loop_parts.registry = s->registry_.get();
  loop_parts.board = s->board_.get();
  loop_parts.time = time;
  loop_parts.backups = s->backups_.get();
  loop_parts.pruner = s->pruner_.get();
  loop_parts.file_index = s->file_index_retention_.get();
  loop_parts.copy_stores = &s->copy_stores_;
  loop_parts.notices = s->notices_.get();
  loop_parts.driller = s->drills_.get();
  loop_parts.leases = &s->set_leases_;
  loop_parts.owed_post_hooks = std::move(owed);
  if (replicas) {
    loop_parts.scope = mine;
    loop_parts.more_tasks.push_back(s->adoption_.get());
    // Replicas start sets side by side: the catalog counts them.
    loop_parts.limits_in_catalog = true;
  }
  s->policies_ = std::make_unique<PolicyLoop>(loop_parts);
  AgentServiceImpl::Parts agent_parts;
  agent_parts.config = &config;
  agent_parts.files = records;
  agent_parts.store = s->store_.get();
  agent_parts.keys = s->keys_.get();
  agent_parts.grants = s->grants_.get();
  agent_parts.registry = s->registry_.get();
  agent_parts.board = s->board_.get();
  agent_parts.clock = clock;
  agent_parts.auth = s->auth_.get();
  agent_parts.replica_address = s->options_.advertise;
  agent_parts.router =
      s->options_.router != nullptr ? s->options_.router : s->router_.get();
  s->agent_service_ = std::make_unique<AgentServiceImpl>(agent_parts);
  AdminServiceImpl::Parts admin_parts;
  admin_parts.sets = records;
  admin_parts.jobs = records;
  admin_parts.files = s->file_index_.get();
  admin_parts.store = s->store_.get();
  admin_parts.keys = s->keys_.get();
  admin_parts.registry = s->registry_.get();
  admin_parts.clock = clock;
  admin_parts.auth = s->auth_.get();
  admin_parts.backups = s->backups_.get();
  admin_parts.restores = s->restores_.get();
  admin_parts.pruner = s->pruner_.get();
  admin_parts.policies = s->policies_.get();
  admin_parts.cancels = &s->run_cancels_;
  admin_parts.notices = s->notices_.get();
  admin_parts.drills = s->drills_.get();
  admin_parts.leases = &s->set_leases_;
  admin_parts.file_index = s->file_index_retention_.get();
  admin_parts.router = agent_parts.router;
  if (replicas) admin_parts.replicas = &s->catalog_->replicas();
  s->admin_service_ = std::make_unique<AdminServiceImpl>(admin_parts);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(s->options_.listen, *credentials, &s->port_);
  builder.SetMaxReceiveMessageSize(4 << 20);
  // Dead peers are found (keepalive pings), idle connections closed, and
  // one connection carries a bounded number of calls. Agents ping every
  // 30 s, which must not count as abuse.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  // A second scheduler on this address is an error, not a sharer of its
  // port (gRPC's default, SO_REUSEPORT, would deal calls to both); but
  // replicas share it, as behind a Service, and listen on their own
  // address too.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, replicas ? 1 : 0);
  int advertised_port = 0;
  const bool own_port =
      replicas && !Listens(s->options_.listen, s->options_.advertise);
  if (own_port) {
    builder.AddListeningPort(s->options_.advertise, *credentials,
                             &advertised_port);
  }
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 15 * 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 100);
  builder.RegisterService(s->agent_service_.get());
  builder.RegisterService(s->admin_service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ != nullptr) {
    // Kubernetes' liveness probe asks for "liveness": SERVING while the
    // process lives (a standby answers it too: standby.h); "ready" is the
    // readiness of a replica among standbys (standby.h).
    if (auto* health = s->server_->GetHealthCheckService()) {
      health->SetServingStatus("liveness", true);
      health->SetServingStatus("ready", true);  // until it drains
    }
  }
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", s->options_.listen,
                     ": the address is in use or not local to this host"));
  }
  if (own_port && advertised_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on --advertise ", s->options_.advertise,
                     ": the address is in use or not this host's"));
  }
  if (!s->options_.web_listen.empty()) {
    st = s->ServeWeb();
    if (!st.ok()) return st;
  }
  st = s->policies_->Start();
  if (!st.ok()) return st;
  return s;
}

absl::Status SchedulerServer::RecoverEveryDeployment(
    std::vector<OwedPostHooks>* owed) {
  // Sets left inside their quiesce window owe their deployments the
  // post-hooks (DX was stopped): found before they are failed, run once
  // the agents are back (OwedPostHooksTask).
  auto owing =
      SetsOwingPostHooks(catalog_.get(), catalog_.get(),
                         clock_->NowUnix() - kOwedPostHooksWithinSeconds);
  if (!owing.ok()) return owing.status();
  *owed = *std::move(owing);
  auto failed =
      catalog_->FailUnfinished(kStoppedWhileRunning, clock_->NowUnix());
  if (!failed.ok()) return failed.status();
  if (*failed > 0) {
    DXLOG(WARNING) << *failed
                   << " set(s) were left running by an earlier scheduler; "
                      "marked failed";
  }
  // Restores that ran with it held their deployments: those now wait.
  auto stopped = StopRunningHolds(*catalog_);
  if (!stopped.ok()) return stopped.status();
  if (*stopped > 0) {
    DXLOG(WARNING) << *stopped
                   << " restore(s) were left running by an earlier scheduler; "
                      "their deployments stay held (`dxbackup show SET`)";
  }
  // What those sets scaled down (scale_to_one) goes back first.
  absl::Status st =
      ScaleBackLeftDown(*catalog_, options_.config.kubernetes_api());
  if (!st.ok()) return st;
  st = catalog_->DeleteOrphanFiles();
  if (!st.ok()) return st;
  return absl::OkStatus();
}

absl::Status SchedulerServer::JoinReplicas(const common::TimeSource* time) {
  // Not beside an active scheduler of the other mode (one active and
  // standbys), and none becomes active beside this one.
  auto shared = CatalogLock::Open(options_.config.catalog().postgres());
  if (!shared.ok()) return shared.status();
  if (absl::Status s = (*shared)->TryShareAsReplica(); !s.ok()) return s;
  mode_lock_ = *std::move(shared);
  auto lease = ReplicaLease::Start(
      &catalog_->replicas(),
      {ReplicaLease::NewId(HostName()), options_.advertise}, time,
      [](const absl::Status& why) {
        // Its deployments go to the other replicas once the lease lapses;
        // nothing here may act for them meanwhile.
        DXLOG(ERROR) << "this replica's lease is lost (" << why.message()
                     << "): stopping at once";
        std::_Exit(1);
      });
  if (!lease.ok()) return lease.status();
  lease_ = std::move(*lease);
  DXLOG(INFO) << "scheduler replica " << lease_->id() << " at "
              << options_.advertise
              << ": runs the deployments it owns, takes over those stopped "
                 "replicas left";
  router_ = std::make_unique<LeaseRouter>(
      lease_.get(),
      [this](const std::string& namespace_, const std::string& release,
             const std::string& previous) {
        return TakeOver(namespace_, release, previous);
      });
  return absl::OkStatus();
}

absl::Status SchedulerServer::TakeOver(const std::string& namespace_,
                                       const std::string& release,
                                       const std::string& previous) {
  TakeoverParts parts;
  parts.sets = catalog_.get();
  parts.jobs = catalog_.get();
  parts.store = store_.get();
  parts.copy_stores = &copy_stores_;
  parts.kubernetes_api = &options_.config.kubernetes_api();
  parts.clock = clock_;
  parts.owe = [this](std::vector<OwedPostHooks> owed) {
    policies_->Owe(std::move(owed), absl::FromUnixSeconds(clock_->NowUnix()));
  };
  parts.finish_removals = [this](const std::string& ns,
                                 const std::string& rel) {
    return pruner_->FinishInterrupted(ns, rel);
  };
  absl::Status s = TakeOverDeployment(parts, namespace_, release, previous);
  if (s.ok()) s = SeedMetrics(namespace_, release);
  // What the replica before had not delivered of it.
  if (s.ok()) notifier_->TakeUpKeptOf(namespace_, release);
  return s;
}

absl::Status SchedulerServer::SeedMetrics(const std::string& namespace_,
                                          const std::string& release) {
  auto deployments = catalog_->DeploymentSummaries(namespace_, release);
  if (!deployments.ok()) return deployments.status();
  metrics_->SeedLastComplete(*deployments);
  for (const SetCatalog::DeploymentSummary& d : *deployments) {
    if (d.drilled_id.empty()) continue;
    v1::BackupSet drilled;
    drilled.set_namespace_(d.namespace_);
    drilled.set_release(d.release);
    *drilled.mutable_drill() = d.drill;
    metrics_->SeedDrill(drilled);
  }
  return absl::OkStatus();
}

absl::Status SchedulerServer::ServeWeb() {
  web::HttpServer::Options web_options;
  web_options.listen = options_.web_listen;
  const common::TlsFlags& tls = options_.tls;
  if (!tls.cert_file.empty()) {
    // PEM files, read as secrets are (a key is one); the line end they
    // lose is put back.
    auto cert = common::ReadSecretFile(tls.cert_file);
    auto key = common::ReadSecretFile(tls.key_file);
    if (!cert.ok() || !key.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the web dashboard cannot read its TLS certificate or key: ",
          (cert.ok() ? key : cert).status().message()));
    }
    web_options.cert_pem = *cert + "\n";
    web_options.key_pem = *key + "\n";
  } else if (!common::IsLoopbackAddress(options_.web_listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--web-listen ", options_.web_listen,
        " is not a loopback address, so the dashboard needs TLS: give "
        "--tls-cert and --tls-key (it serves HTTPS with them)"));
  }
  web::DashboardParts parts;
  parts.config = &options_.config;
  parts.sets = catalog_.get();
  parts.jobs = catalog_.get();
  parts.clock = clock_;
  parts.registry = registry_.get();
  parts.pruner = pruner_.get();
  parts.live = live_runs_.get();
  dashboard_ = std::make_unique<web::Dashboard>(parts, auth_.get());
  web::Dashboard* dashboard = dashboard_.get();
  auto server = web::HttpServer::Start(
      web_options,
      [dashboard](const web::HttpRequest& r) { return dashboard->Handle(r); });
  if (!server.ok()) return server.status();
  web_ = std::move(*server);
  web_port_ = web_->port();
  DXLOG(INFO) << "web dashboard on "
              << (web_options.cert_pem.empty() ? "http" : "https") << "://"
              << options_.web_listen << " (port " << web_port_ << ")";
  return absl::OkStatus();
}

void SchedulerServer::Drain() {
  if (auto* health = server_->GetHealthCheckService()) {
    health->Shutdown();  // probes see NOT_SERVING from here on
  }
}

void SchedulerServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  Drain();
  if (web_ != nullptr) web_->Stop();  // no page reads what stops next
  // Ending the jobs ends the runs, which releases admin calls following them.
  drills_->Stop();  // their restores end, then they clean up
  policies_->Stop();
  file_index_retention_->Stop();  // between two sets' moves
  board_->FailAll(
      absl::AbortedError("the scheduler stopped while the job ran"));
  server_->Shutdown(std::chrono::system_clock::now());
  backups_.reset();
  restores_.reset();
  server_->Wait();
}

SchedulerServer::~SchedulerServer() {
  if (server_ != nullptr) Shutdown();
}

}  // namespace dxbackup::scheduler
