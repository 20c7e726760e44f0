// FileIndex: the files of each volume artifact, for `files`, `find`,
// restores of a path and the agent's change detection. Rows arrive with
// the upload and are visible at once; they are removed if it fails. An
// older set's rows may later move to an object in the store
// (MoveFilesToStore; sets/file_lists.h reads it): the artifact then names
// that object and the queries here no longer see its files.
// Implementations are thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_FILE_INDEX_H_
#define DXBACKUP_SCHEDULER_CATALOG_FILE_INDEX_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

class FileIndex {
 public:
  virtual ~FileIndex() = default;

  virtual absl::Status AddFiles(
      const std::string& set_id, const std::string& target,
      const google::protobuf::RepeatedPtrField<v1::FileEntry>& entries) = 0;
  virtual absl::Status DeleteFiles(const std::string& set_id,
                                   const std::string& target) = 0;
  // Calls `visit` for each indexed file of a set in (target, path) order,
  // under the request's target and path prefix if given ("a/b" selects
  // a/b and what is below a/b/), until it returns false.
  virtual absl::Status ForEachFile(
      const v1::ListFilesRequest& request,
      const std::function<bool(const v1::IndexedFile&)>& visit) = 0;
  // Up to `limit` index entries of one artifact with paths after `after`
  // ("" for the first page), in path (byte) order.
  virtual absl::StatusOr<std::vector<v1::FileEntry>> FilesAfter(
      const std::string& set_id, const std::string& target,
      const std::string& after, int limit) = 0;
  // Every stored version of the paths matching a glob (a pattern without
  // '/' matches a name at any depth), newest set first; an incremental's
  // unchanged entries are not versions. At most the request's limit
  // (default 1000, at most 10,000), `truncated` when there were more.
  virtual absl::StatusOr<v1::FindFilesResponse> FindFiles(
      const v1::FindFilesRequest& request) = 0;
  // Removes index rows of uploads that never became artifacts (a crash).
  virtual absl::Status DeleteOrphanFiles() = 0;

  // In one transaction: records `list` (an object already committed to
  // the store) on the artifact of `target` in `set_id`, raises the
  // artifact's lock to `locked_until_unix` when that is later (the object
  // is locked with the set), and deletes the artifact's index rows.
  // NotFound when the set has no such artifact.
  virtual absl::Status MoveFilesToStore(const std::string& set_id,
                                        const std::string& target,
                                        const v1::StoredFileList& list,
                                        int64_t locked_until_unix) = 0;
  // The artifacts whose file index is in the store, of the sets of
  // `namespace_` (and of `release`, unless ""; both "": every set) that
  // are not being removed, newest set first (as FindFiles orders sets),
  // then by target.
  struct StoredFileListOf {
    v1::Artifact artifact;
    std::string namespace_;
    std::string release;
    int64_t set_started_unix = 0;
  };
  virtual absl::StatusOr<std::vector<StoredFileListOf>> StoredFileLists(
      const std::string& namespace_, const std::string& release) = 0;
  // Whether StoredFileLists would give any, without reading them.
  virtual absl::StatusOr<bool> AnyStoredFileLists(
      const std::string& namespace_, const std::string& release) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_FILE_INDEX_H_
