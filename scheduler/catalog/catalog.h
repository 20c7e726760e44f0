// Catalog is the scheduler's durable record of agents, backup sets, jobs
// and artifacts. An artifact row exists only for a file that is complete in
// the store (see ArtifactStore); rows are written after the file is durable.
//
// Implementations are thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_CATALOG_H_
#define DXBACKUP_SCHEDULER_CATALOG_CATALOG_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

class Catalog {
 public:
  virtual ~Catalog() = default;

  // Agents, keyed by id; `connected` is not stored (the registry knows it).
  virtual absl::Status UpsertAgent(const v1::AgentInfo& agent) = 0;
  virtual absl::StatusOr<std::vector<v1::AgentInfo>> ListAgents() = 0;
  // Removes an agent's row; OK when there was none.
  virtual absl::Status DeleteAgent(const std::string& id) = 0;

  virtual absl::Status CreateSet(const v1::BackupSet& set) = 0;
  virtual absl::Status UpdateSet(const v1::BackupSet& set) = 0;
  // NotFound when there is no such set.
  virtual absl::StatusOr<v1::BackupSet> GetSet(const std::string& id) = 0;
  // Newest first (sets started in the same second: the later created
  // first); empty filter fields match everything.
  virtual absl::StatusOr<std::vector<v1::BackupSet>> ListSets(
      const v1::ListSetsRequest& filter) = 0;
  // Removes a set's rows: its artifacts, jobs and the set itself, at once.
  // The caller removes the files first.
  virtual absl::Status DeleteSet(const std::string& id) = 0;

  virtual absl::Status UpsertJob(const v1::Job& job) = 0;
  virtual absl::StatusOr<std::vector<v1::Job>> ListJobs(
      const std::string& set_id) = 0;

  virtual absl::Status AddArtifact(const v1::Artifact& artifact) = 0;
  virtual absl::StatusOr<std::vector<v1::Artifact>> ListArtifacts(
      const std::string& set_id) = 0;
  // Every artifact path, for reconciling the store after a crash.
  virtual absl::StatusOr<std::vector<std::string>> AllArtifactPaths() = 0;

  // The file index of volume artifacts: rows arrive with the upload and
  // are removed if it fails; they are visible as soon as they arrive.
  virtual absl::Status AddFiles(
      const std::string& set_id, const std::string& target,
      const google::protobuf::RepeatedPtrField<v1::FileEntry>& entries) = 0;
  virtual absl::Status DeleteFiles(const std::string& set_id,
                                   const std::string& target) = 0;
  // Calls `visit` for each indexed file of a set in path order (under the
  // request's path prefix and target, if given) until it returns false.
  virtual absl::Status ForEachFile(
      const v1::ListFilesRequest& request,
      const std::function<bool(const v1::IndexedFile&)>& visit) = 0;
  // Up to `limit` index entries of one artifact with paths after `after`
  // ("" for the first page), in path (byte) order.
  virtual absl::StatusOr<std::vector<v1::FileEntry>> FilesAfter(
      const std::string& set_id, const std::string& target,
      const std::string& after, int limit) = 0;
  // Every version of the paths matching a glob, newest set first: the
  // sets that stored it (an incremental's unchanged files are its base's
  // version).
  virtual absl::StatusOr<v1::FindFilesResponse> FindFiles(
      const v1::FindFilesRequest& request) = 0;
  // Removes index rows of uploads that never became artifacts (a crash).
  virtual absl::Status DeleteOrphanFiles() = 0;

  // The last schedule slot each policy took for each deployment.
  struct ScheduleSlot {
    std::string policy, namespace_, release;
    int64_t last_slot_unix = 0;
  };
  virtual absl::StatusOr<std::vector<ScheduleSlot>> ScheduleSlots() = 0;
  virtual absl::Status SaveScheduleSlot(const ScheduleSlot& slot) = 0;

  // Marks every running set and unfinished job failed with `reason`: the
  // scheduler that ran them is gone. Returns how many sets it failed.
  virtual absl::StatusOr<int> FailUnfinished(const std::string& reason,
                                             int64_t now_unix) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_CATALOG_H_
