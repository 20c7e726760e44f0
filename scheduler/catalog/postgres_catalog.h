// PostgresCatalog is the Catalog in a PostgreSQL database that several
// schedulers can share (config `catalog: {postgres: ...}`). Open() applies
// the schema migrations the database lacks (catalog_schema.h, as SQLite's
// are), each in its own transaction, under an advisory lock so that
// schedulers starting together migrate once; the version is the row of
// dxbackup_schema_version.
//
//   auto catalog = PostgresCatalog::Open(config.catalog().postgres());
//
// What it stores, and how each call answers, is what SqliteCatalog does
// (catalog_contract_test runs against both). Text compares byte by byte,
// as SQLite's does (its columns are COLLATE "C").
//
// Thread-safe: a pool of connections, one call on each at a time. A
// connection the server closed is dropped before it is used again and a
// new one opened, so a database that went away and came back serves
// again; meanwhile calls fail as Unavailable, naming the server. No
// statement is sent twice (one whose answer was lost may have committed).
#ifndef DXBACKUP_SCHEDULER_CATALOG_POSTGRES_CATALOG_H_
#define DXBACKUP_SCHEDULER_CATALOG_POSTGRES_CATALOG_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/catalog.h"
#include "scheduler/catalog/catalog_rows.h"
#include "scheduler/catalog/replica_rows.h"
#include "scheduler/postgres/pg_connection.h"

namespace dxbackup::scheduler {

class PostgresCatalog : public Catalog {
 public:
  static constexpr int kDefaultConnections = 4;

  // `server`'s connection fields (host, port, dbname, user, password_file,
  // sslmode, ca_file) name the database; it must exist.
  static absl::StatusOr<std::unique_ptr<PostgresCatalog>> Open(
      const v1::Database& server, int connections = kDefaultConnections);
  ~PostgresCatalog() override;

  absl::StatusOr<int> SchemaVersion();

  // From now on every write first checks, in its transaction, that the
  // catalog's fence still has `epoch` (the one this scheduler's
  // CatalogLock advanced it to; catalog_fence.h). A write that finds
  // another fails FailedPrecondition, and `on_fenced` is called with that
  // status first (the scheduler stops there). Call before the catalog is
  // used by more than one thread; 0 (the default) fences nothing, for
  // tools that run beside no scheduler.
  void FenceWith(int64_t epoch,
                 std::function<void(const absl::Status&)> on_fenced);
  // The same for an active replica (replica_fence.h): from now on every
  // write first checks, in its transaction, that replica `id`'s lease is
  // live; a write that finds it lapsed fails FailedPrecondition, after
  // `on_fenced` was called with that status. The replica must have
  // registered; call before the catalog is used by more than one thread.
  void FenceAsReplica(std::string id,
                      std::function<void(const absl::Status&)> on_fenced);

  absl::Status UpsertAgent(const v1::AgentInfo& agent) override;
  absl::StatusOr<std::vector<v1::AgentInfo>> ListAgents() override;
  absl::StatusOr<std::vector<v1::AgentInfo>> ListAgentsOf(
      const std::string& namespace_, const std::string& release) override;
  absl::Status DeleteAgent(const std::string& id) override;
  absl::Status CreateSet(const v1::BackupSet& set) override;
  absl::Status CreateSetWithin(const v1::BackupSet& set,
                               const SetLimits& limits) override;
  absl::Status UpdateSet(const v1::BackupSet& set) override;
  absl::Status RecordDrill(const std::string& set_id,
                           const v1::Drill& drill) override;
  absl::StatusOr<v1::BackupSet> GetSet(const std::string& id) override;
  absl::StatusOr<std::vector<v1::BackupSet>> ListSets(
      const v1::ListSetsRequest& filter) override;
  absl::StatusOr<int64_t> CountSets(const v1::ListSetsRequest& filter) override;
  absl::StatusOr<std::vector<DeploymentSummary>> DeploymentSummaries(
      const std::string& namespace_, const std::string& release) override;
  absl::Status DeleteSet(const std::string& id) override;
  absl::Status AddFiles(const std::string& set_id, const std::string& target,
                        const google::protobuf::RepeatedPtrField<v1::FileEntry>&
                            entries) override;
  absl::Status DeleteFiles(const std::string& set_id,
                           const std::string& target) override;
  absl::Status ForEachFile(
      const v1::ListFilesRequest& request,
      const std::function<bool(const v1::IndexedFile&)>& visit) override;
  absl::StatusOr<std::vector<v1::FileEntry>> FilesAfter(
      const std::string& set_id, const std::string& target,
      const std::string& after, int limit) override;
  absl::StatusOr<v1::FindFilesResponse> FindFiles(
      const v1::FindFilesRequest& request) override;
  absl::Status DeleteOrphanFiles() override;
  absl::Status MoveFilesToStore(const std::string& set_id,
                                const std::string& target,
                                const v1::StoredFileList& list,
                                int64_t locked_until_unix) override;
  absl::StatusOr<std::vector<StoredFileListOf>> StoredFileLists(
      const std::string& namespace_, const std::string& release) override;
  absl::StatusOr<bool> AnyStoredFileLists(const std::string& namespace_,
                                          const std::string& release) override;
  absl::StatusOr<std::vector<ScheduleSlot>> ScheduleSlots() override;
  absl::Status SaveScheduleSlot(const ScheduleSlot& slot) override;
  absl::StatusOr<bool> ClaimScheduleSlot(const ScheduleSlot& slot) override;
  absl::Status UpsertJob(const v1::Job& job) override;
  absl::StatusOr<std::vector<v1::Job>> ListJobs(
      const std::string& set_id) override;
  absl::StatusOr<v1::Job> GetJob(const std::string& id) override;
  absl::Status AddArtifact(const v1::Artifact& artifact) override;
  absl::StatusOr<std::vector<v1::Artifact>> ListArtifacts(
      const std::string& set_id) override;
  absl::StatusOr<std::vector<std::string>> AllArtifactPaths() override;
  absl::StatusOr<std::map<std::string, int64_t>> LockedSets(
      int64_t now_unix) override;
  absl::StatusOr<std::vector<v1::DeploymentHold>> Holds() override;
  absl::Status PutHold(const v1::DeploymentHold& hold) override;
  absl::Status ReleaseHold(const std::string& namespace_,
                           const std::string& release,
                           const std::string& restore_id) override;
  absl::StatusOr<int64_t> AddPendingNotice(const std::string& webhook,
                                           const v1::Notice& notice) override;
  absl::Status RemovePendingNotice(int64_t id) override;
  absl::StatusOr<std::vector<PendingNotice>> PendingNotices() override;
  absl::StatusOr<std::vector<ScaledDown>> ScaledDowns() override;
  absl::Status RecordScaledDown(const ScaledDown& scaled) override;
  absl::Status ForgetScaledDown(const std::string& namespace_,
                                const std::string& release,
                                const std::string& set_id) override;
  absl::StatusOr<int> FailUnfinished(const std::string& reason,
                                     int64_t now_unix) override;
  ReplicaCatalog& replicas() override { return replicas_; }

 private:
  using Rows = std::vector<std::vector<std::string>>;
  class Lease;  // one pooled connection, for one call

  PostgresCatalog(v1::Database server, std::string password, int connections);
  absl::Status Migrate();
  // A free connection, opened (again) if it has none or it broke; waits
  // while all are in use.
  absl::StatusOr<Lease> Acquire();
  // Runs `sql` (written with SQLite's ?N placeholders, rendered as $N) on
  // a pooled connection, once; `what` names the call in an error.
  absl::StatusOr<Rows> Run(const std::string& what, const std::string& sql,
                           const std::vector<SqlValue>& values = {});
  // As Run, on the replica calls' own connection (replicas_conn_).
  absl::StatusOr<Rows> RunForReplicas(const std::string& what,
                                      const std::string& sql,
                                      const std::vector<SqlValue>& values);
  // Runs `sql` (?N placeholders) with `values` on `conn`, once; errors
  // name the call and the server (Describe). Run, RunOn and
  // RunForReplicas all come here.
  absl::StatusOr<Rows> QueryOn(PgConnection& conn, const std::string& what,
                               const std::string& sql,
                               const std::vector<SqlValue>& values) const;
  // As Run, on a leased connection.
  // `error` of a statement run for `what`, naming the server.
  absl::Status Describe(const std::string& what,
                        const absl::Status& error) const;
  // Run, for a statement that changes the catalog: fenced (FenceWith).
  absl::StatusOr<Rows> Write(const std::string& what, const std::string& sql,
                             const std::vector<SqlValue>& values = {});
  // BEGIN on `lease`, then the fence's check (FenceWith). On an error the
  // caller rolls back.
  absl::Status BeginWrite(Lease& lease, const std::string& what);
  // FenceAsReplica's check, in the transaction BeginWrite began.
  absl::Status CheckReplicaFence(Lease& lease, const std::string& what);
  absl::StatusOr<Rows> RunOn(Lease& lease, const std::string& what,
                             const std::string& sql,
                             const std::vector<SqlValue>& values);
  // Rows as a set of messages, by `read`.
  template <typename T, typename Read>
  absl::StatusOr<std::vector<T>> ReadAll(const std::string& what,
                                         const std::string& sql,
                                         const std::vector<SqlValue>& values,
                                         Read read);

  const v1::Database server_;
  const std::string password_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // opened, not in use
  int free_slots_;  // connections that may be in use or opened now
  // FenceWith's; set before other threads use the catalog.
  int64_t fence_epoch_ = 0;
  std::string fence_replica_;  // FenceAsReplica's; "" none
  std::function<void(const absl::Status&)> on_fenced_;
  // The replica calls' connection (ReplicaCatalog), outside the pool.
  std::mutex replicas_mu_;
  std::unique_ptr<PgConnection> replicas_conn_;
  SqlReplicaCatalog replicas_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_POSTGRES_CATALOG_H_
