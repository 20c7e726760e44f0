// ArchiveExtractor unpacks a tar stream (plain, gzip or zstd) under a root
// directory and never writes outside it: absolute names, ".." components,
// hard links that leave the root or go through a symlink, writing through a
// symlink, and an entry that names the root itself as anything but a
// directory are refused with an error naming the entry, and so are device
// nodes. FIFOs and sockets are skipped (logged): they hold no data, and the
// programs that use them make them. Unless asked to keep them, setuid and
// setgid bits of files and `security.capability` xattrs (file capabilities,
// which grant privileges as setuid does) are dropped. Owners are restored
// when running as root.
//
// Every write goes through the root's held descriptor (see RestoreRoot):
// the root's path is never resolved again.
//
//   absl::StatusOr<RestoreRoot> root = RestoreRoot::Open("/restore/here");
//   ArchiveExtractor x(&source, &*root);
//   absl::Status s = x.Extract();
//
// Not thread-safe.
#ifndef DXBACKUP_AGENT_RESTORE_ARCHIVE_EXTRACTOR_H_
#define DXBACKUP_AGENT_RESTORE_ARCHIVE_EXTRACTOR_H_

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/restore/path_set.h"
#include "agent/restore/restore_root.h"

struct archive;
struct archive_entry;

namespace dxbackup::agent {

// Where an archive's bytes come from, in order.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The next piece of the stream; an empty view at the end.
  virtual absl::StatusOr<std::string_view> Next() = 0;
};

// Checks an archive entry name: relative, no "..", not empty. Returns the
// name without leading "./", or an error naming it.
absl::StatusOr<std::string> SafeRelativeName(absl::string_view name);

class ArchiveExtractor {
 public:
  // `source` and `root` must outlive the extractor.
  ArchiveExtractor(ByteSource* source, const RestoreRoot* root);

  // Extracts only entries at or below these volume-relative paths.
  void set_only_paths(std::vector<std::string> paths);
  // Keeps setuid/setgid bits on files; by default they are dropped.
  void set_keep_setid(bool keep) { keep_setid_ = keep; }
  // Lets a non-directory entry replace a directory that holds its name,
  // with everything below it (an incremental's type change; replace mode).
  // By default such an entry fails unless the directory is empty.
  void set_replace_directories(bool replace) { replace_directories_ = replace; }
  // Adds the name of every entry restored to `sink` (which must outlive
  // Extract).
  void set_name_sink(PathSet* sink) { names_ = sink; }
  // An incremental archive's path list (see TarStreamWriter) is never
  // extracted; with a sink set, its names are added to it.
  void set_path_list_sink(PathSet* sink) { path_list_ = sink; }
  // True once the archive held a path list: it was an incremental.
  bool saw_path_list() const { return saw_path_list_; }

  absl::Status Extract();
  uint64_t files() const { return files_; }
  // Puts back the archive's times on every directory it held, for after
  // something else changed them (Extract does so itself at its end).
  void RestoreDirectoryTimes() const;

 private:
  bool Wanted(const std::string& name) const;
  absl::Status ReadPathList(struct archive* in, const std::string& name);
  // Whether the entry `name` is restored (false: skipped), or an error
  // when it must not be: a device node, the root as a non-directory.
  absl::StatusOr<bool> Admit(struct archive_entry* entry,
                             const std::string& name) const;
  // Applies the setid and capability policy to the entry.
  void DropPrivileges(struct archive_entry* entry) const;
  // Points the entry (and its hard-link target) at pinned names below the
  // root, once no symlink is on the way; removes a symlink at the entry's
  // own name, which the entry replaces.
  absl::Status PinEntry(struct archive_entry* entry,
                        const std::string& name) const;
  // The root entry: its metadata go on the held descriptor (its mode
  // once every entry is in).
  void RestoreRootMetadata(struct archive* out, struct archive_entry* entry);
  // Writes one entry's header and data.
  absl::Status WriteEntry(struct archive* in, struct archive* out,
                          struct archive_entry* entry, const std::string& name);

  static long ReadCallback(struct archive*, void* self, const void** buffer);

  ByteSource* source_;
  const RestoreRoot* root_;
  absl::Status source_status_;
  uint64_t files_ = 0;
  std::vector<std::string> only_paths_;
  bool keep_setid_ = false;
  bool replace_directories_ = false;
  PathSet* names_ = nullptr;
  PathSet* path_list_ = nullptr;
  bool saw_path_list_ = false;
  struct Times {
    struct timespec atime, mtime;
  };
  std::unordered_map<std::string, Times> dir_times_;
  std::optional<mode_t> root_mode_;
};

// True when `name` is `path` or lies below it ("a/b" is below "a").
bool IsAtOrBelow(const std::string& name, const std::string& path);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_RESTORE_ARCHIVE_EXTRACTOR_H_
