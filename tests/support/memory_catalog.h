// MemoryCatalog: the whole Catalog in memory, for unit tests of the parts
// that use it. It keeps the contract SqliteCatalog keeps (orderings,
// filters, NotFound, uniqueness of artifacts); catalog_contract_test runs
// the same checks against both. Thread-safe; nothing survives it.
#ifndef DXBACKUP_TESTS_SUPPORT_MEMORY_CATALOG_H_
#define DXBACKUP_TESTS_SUPPORT_MEMORY_CATALOG_H_

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "scheduler/catalog/catalog.h"
#include "tests/support/memory_replica_catalog.h"

namespace dxbackup::testing {

class MemoryCatalog : public scheduler::Catalog {
 public:
  absl::Status UpsertAgent(const v1::AgentInfo& agent) override;
  absl::StatusOr<std::vector<v1::AgentInfo>> ListAgents() override;
  absl::StatusOr<std::vector<v1::AgentInfo>> ListAgentsOf(
      const std::string& namespace_, const std::string& release) override;
  absl::Status DeleteAgent(const std::string& id) override;

  absl::Status CreateSet(const v1::BackupSet& set) override;
  absl::Status CreateSetWithin(const v1::BackupSet& set,
                               const scheduler::SetLimits& limits) override;
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
  MemoryReplicaCatalog& replicas() override { return replicas_; }

  absl::Status UpsertJob(const v1::Job& job) override;
  absl::StatusOr<std::vector<v1::Job>> ListJobs(
      const std::string& set_id) override;
  absl::StatusOr<v1::Job> GetJob(const std::string& id) override;

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

 private:
  MemoryReplicaCatalog replicas_;
  struct StoredSet {
    v1::BackupSet set;
    uint64_t created;  // creation order, for ties in started_unix
  };
  struct StoredFile {
    std::string set_id, target;
    v1::FileEntry entry;
    uint64_t added;  // insertion order, for ties in path
  };
  v1::IndexedFile Indexed(const StoredFile& f) const;  // mu_ held

  std::mutex mu_;
  uint64_t next_order_ = 0;
  std::map<std::string, v1::AgentInfo> agents_;
  std::map<std::string, StoredSet> sets_;
  std::vector<v1::Job> jobs_;  // in order first recorded
  std::vector<v1::Artifact> artifacts_;
  std::vector<StoredFile> files_;
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> slots_;
  std::map<std::pair<std::string, std::string>, v1::DeploymentHold> holds_;
  std::map<std::pair<std::string, std::string>, ScaledDown> scaled_downs_;
  std::map<int64_t, PendingNotice> pending_notices_;
  int64_t next_notice_id_ = 1;
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_MEMORY_CATALOG_H_
