// VolumeRestore applies one volume's restore into a root directory: the
// parts of its chain (a full archive, then each incremental, oldest first),
// and then the removal of what the restored moment lacks — anything in the
// volume (replace mode), or only what the chain itself wrote (overlay mode
// of a chain; other files stay). A single full part in overlay mode removes
// nothing.
//
//   absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(path);
//   VolumeRestore restore(&*root, options, parts.size());
//   for (ByteSource* part : parts) {
//     absl::Status s = restore.ExtractPart(part);
//     ...  // check the part's stream (digest) before the next one
//   }
//   absl::StatusOr<uint64_t> entries = restore.Finish();
//
// Memory does not grow with the number of files: the names the removal
// needs spill to temporary files (PathSet).
//
// Not thread-safe.
#ifndef DXBACKUP_AGENT_RESTORE_VOLUME_RESTORE_H_
#define DXBACKUP_AGENT_RESTORE_VOLUME_RESTORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/restore/archive_extractor.h"
#include "agent/restore/path_set.h"
#include "agent/restore/restore_root.h"

namespace dxbackup::agent {

struct VolumeRestoreOptions {
  // Only entries at or below these volume-relative paths, if any.
  std::vector<std::string> paths;
  // Make the volume exactly the restored moment (under `paths`).
  bool replace = false;
  // Keep setuid/setgid bits (see ArchiveExtractor::set_keep_setid).
  bool keep_setid = false;
  // Where the sets of paths the removal needs spill (see PathSet); the
  // system's temporary directory if empty.
  std::string temp_dir;
};

class VolumeRestore {
 public:
  // `root` must outlive the restore; every part and the removal work
  // through it. `parts` is the number of archives of the chain (at least
  // one); the last of several must be an incremental.
  VolumeRestore(const RestoreRoot* root, VolumeRestoreOptions options,
                size_t parts);
  ~VolumeRestore();

  // Extracts the next part, read from `source` (which need not outlive the
  // call). An error names the entry or the stream; the restore is then
  // abandoned (call nothing more).
  absl::Status ExtractPart(ByteSource* source);

  // Once every part was extracted and proved sound: removes what the moment
  // lacks (see above) and puts back the directory times. Returns the number
  // of entries of the restored moment: those a single part restored, or
  // those a chain's last path list names (with `paths`, the entries all
  // parts restored, as the list is not cut to them).
  absl::StatusOr<uint64_t> Finish();

 private:
  bool chain() const { return parts_ > 1; }

  const RestoreRoot* root_;
  VolumeRestoreOptions options_;
  size_t parts_;
  size_t done_ = 0;
  uint64_t files_ = 0;
  // What the removal keeps: a chain's moment (its last part's path list),
  // or the names a single part restored.
  std::unique_ptr<PathSet> kept_;
  // In overlay mode, a chain removes only what one of its parts wrote.
  std::unique_ptr<PathSet> written_;
  std::unique_ptr<ArchiveExtractor> last_;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_RESTORE_VOLUME_RESTORE_H_
