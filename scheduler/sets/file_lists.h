// FileLists: a volume artifact's file index as an object in the store
// (v1::StoredFileList), for the sets whose rows left the catalog
// (catalog.file_index_sets): written from the catalog's rows, read back
// for `files`, `find --older` and drills.
//
//   FileLists lists(catalog, catalog, store, keys);
//   lists.Move(artifact);                      // rows -> object, rows gone
//   lists.ForEach(artifact, given, visit);     // the entries, path order
//
// Move reads the rows a page at a time in path order (FileIndex::
// FilesAfter), writes them as delimited FileEntry messages in one zstd
// stream — sealed with age for the namespace's recipients when the
// artifact itself is encrypted — commits the object beside the artifact
// (`core-profile.tar.zst.files.zst[.age]`), locked (in a locking store)
// exactly as long as the artifact still is, then has the catalog record
// it and delete the rows in one transaction (FileIndex::MoveFilesToStore).
// A crash between the two leaves an object no row names, which the
// store's reconciliation removes at the next start; the rows are still
// there, and a later Move writes the list again. An object under the
// list's key is replaced only when no artifact names it; after a failed
// record, the list is removed only once the catalog is read again and
// names it nowhere (a commit whose answer was lost may have recorded it).
// Memory: one page of rows and zstd's window.
//
// ForEach opens the object (decrypting with the identities given and the
// ring's own: FailedPrecondition naming the recipients when there are
// none), and hands each entry to `visit` until it returns false; a
// damaged, cut or short list is DataLoss naming the set and target.
//
// Thread-safe (no state of its own); the parts must outlive it.
#ifndef DXBACKUP_SCHEDULER_SETS_FILE_LISTS_H_
#define DXBACKUP_SCHEDULER_SETS_FILE_LISTS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/catalog/file_index.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

// The key of the file list stored beside `artifact` (a volume artifact):
// its path (without ".age") and ".files.zst", and ".age" after that when
// the artifact is encrypted — one list per artifact path, never shared.
std::string FileListPath(const v1::Artifact& artifact);

class FileLists {
 public:
  // `files`: the rows read and moved; `sets`: the artifacts, read again
  // before an object is removed.
  FileLists(FileIndex* files, SetCatalog* sets, ArtifactStore* store,
            const crypto::KeyRing* keys)
      : files_(files), sets_(sets), store_(store), keys_(keys) {}

  // Moves the rows of `artifact` (a recorded volume artifact whose rows
  // are in the catalog) to a list in the store. On an error the rows stay
  // and nothing is recorded.
  absl::Status Move(const v1::Artifact& artifact);

  // The entries of `artifact`'s stored list, in path order.
  absl::Status ForEach(const v1::Artifact& artifact,
                       const std::vector<crypto::Identity>& given,
                       const std::function<bool(v1::FileEntry&)>& visit) const;

 private:
  // Whether an artifact of `set_id` names `path` as its list; an error
  // when the catalog cannot say.
  absl::StatusOr<bool> Named(const std::string& set_id,
                             const std::string& path) const;

  FileIndex* const files_;
  SetCatalog* const sets_;
  ArtifactStore* const store_;
  const crypto::KeyRing* const keys_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_FILE_LISTS_H_
