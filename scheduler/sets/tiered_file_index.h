// TieredFileIndex is the file index as its readers see it: the catalog's
// rows for the sets that keep them, and for an older set (whose artifacts
// name a list in the store: catalog.file_index_sets) that list, read
// through FileLists. Everything but ForEachFile and FindFiles goes to the
// catalog unchanged.
//
// ForEachFile walks a set's targets in order, each from wherever its
// entries are, with the request's target and path prefix, identically.
// A set moved while it is read is read from its list (a target whose rows
// came back empty is looked up again).
// FindFiles searches the catalog's rows; with `older` (which needs a
// namespace) it then reads the selection's stored lists, newest set first,
// until the limit — a fraction of a second per deployment rather than
// milliseconds — passing over a list whose set is being removed and one
// the rows already gave (moved meanwhile); without it,
// `older_not_searched` tells that the selection has such lists.
//
// Thread-safe; the parts must outlive it.
#ifndef DXBACKUP_SCHEDULER_SETS_TIERED_FILE_INDEX_H_
#define DXBACKUP_SCHEDULER_SETS_TIERED_FILE_INDEX_H_

#include "scheduler/catalog/file_index.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/sets/file_lists.h"

namespace dxbackup::scheduler {

class TieredFileIndex : public FileIndex {
 public:
  // `rows`: the catalog's index; `sets`: the sets' artifacts; `lists`:
  // the stored lists.
  TieredFileIndex(FileIndex* rows, SetCatalog* sets, const FileLists* lists)
      : rows_(rows), sets_(sets), lists_(lists) {}

  absl::Status ForEachFile(
      const v1::ListFilesRequest& request,
      const std::function<bool(const v1::IndexedFile&)>& visit) override;
  absl::StatusOr<v1::FindFilesResponse> FindFiles(
      const v1::FindFilesRequest& request) override;

  absl::Status AddFiles(const std::string& set_id, const std::string& target,
                        const google::protobuf::RepeatedPtrField<v1::FileEntry>&
                            entries) override {
    return rows_->AddFiles(set_id, target, entries);
  }
  absl::Status DeleteFiles(const std::string& set_id,
                           const std::string& target) override {
    return rows_->DeleteFiles(set_id, target);
  }
  absl::StatusOr<std::vector<v1::FileEntry>> FilesAfter(
      const std::string& set_id, const std::string& target,
      const std::string& after, int limit) override {
    return rows_->FilesAfter(set_id, target, after, limit);
  }
  absl::Status DeleteOrphanFiles() override {
    return rows_->DeleteOrphanFiles();
  }
  absl::Status MoveFilesToStore(const std::string& set_id,
                                const std::string& target,
                                const v1::StoredFileList& list,
                                int64_t locked_until_unix) override {
    return rows_->MoveFilesToStore(set_id, target, list, locked_until_unix);
  }
  absl::StatusOr<std::vector<StoredFileListOf>> StoredFileLists(
      const std::string& namespace_, const std::string& release) override {
    return rows_->StoredFileLists(namespace_, release);
  }
  absl::StatusOr<bool> AnyStoredFileLists(const std::string& namespace_,
                                          const std::string& release) override {
    return rows_->AnyStoredFileLists(namespace_, release);
  }

 private:
  // Whether set `set_id` is gone or being removed (its lists with it).
  bool Removed(const std::string& set_id);

  FileIndex* const rows_;
  SetCatalog* const sets_;
  const FileLists* const lists_;
};

// Whether `path` is selected by `prefix` ("a/b": a/b itself and what is
// below a/b/; "" or "/": everything), as ForEachFile selects.
bool UnderPrefix(const std::string& path, std::string prefix);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_TIERED_FILE_INDEX_H_
