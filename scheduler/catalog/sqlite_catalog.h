// SqliteCatalog is the Catalog in one SQLite file (WAL mode, synchronous
// FULL). Open() applies any schema migrations the file lacks, in order, each
// in its own transaction; the schema version is SQLite's user_version.
//
//   auto catalog = SqliteCatalog::Open("/data/catalog.db");
//
// Thread-safe: one connection, serialised by a mutex (SQLite's own
// connection mutex is off: SQLITE_OPEN_NOMUTEX).
#ifndef DXBACKUP_SCHEDULER_CATALOG_SQLITE_CATALOG_H_
#define DXBACKUP_SCHEDULER_CATALOG_SQLITE_CATALOG_H_

#include <memory>
#include <mutex>
#include <string>

#include "scheduler/catalog/catalog.h"
#include "scheduler/catalog/replica_rows.h"

struct sqlite3;

namespace dxbackup::scheduler {

class SqliteCatalog : public Catalog {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteCatalog>> Open(
      const std::string& path);
  ~SqliteCatalog() override;

  // The schema version this build writes.
  static int LatestSchemaVersion();
  absl::StatusOr<int> SchemaVersion();

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
  SqliteCatalog(sqlite3* db, std::string path);
  absl::Status Migrate();
  absl::Status Exec(const std::string& sql);
  // Runs one statement with `values` and returns its rows as text.
  absl::StatusOr<SqlReplicaCatalog::Rows> Query(
      const std::string& what, const std::string& sql,
      const std::vector<SqlValue>& values);
  absl::Status WriteSet(const std::string& sql, const v1::BackupSet& set);

  sqlite3* db_;
  std::string path_;
  std::mutex mu_;
  SqlReplicaCatalog replicas_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_SQLITE_CATALOG_H_
