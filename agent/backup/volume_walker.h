// VolumeWalker visits every entry under a volume's root in byte order of
// the volume-relative paths ("a", "a-b", "a.txt", "a/x": the order of the
// catalog's file index, so change detection can merge the two), without
// crossing into
// another file system (a mount point is visited, its contents are not) and
// without following symlinks (the root itself is resolved first). Each
// directory is opened once and its entries are looked up relative to it
// (fstatat), never by their whole path; the open directories are those of
// the current path, one per level.
//
//   VolumeWalker walker("/opt/HCL/wp_profile", {"wstemp/*", "*.tmp"});
//   absl::Status s = walker.Walk([](const WalkEntry& e) { ...; return Ok; });
//
// Excludes are fnmatch globs: one without a '/' matches a name at any depth,
// one with a '/' matches the whole volume-relative path. An excluded
// directory is skipped with everything below it. Memory grows with depth and
// the widest directory, not with the file count.
#ifndef DXBACKUP_AGENT_BACKUP_VOLUME_WALKER_H_
#define DXBACKUP_AGENT_BACKUP_VOLUME_WALKER_H_

#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace dxbackup::agent {

// Valid only during the visit that is given it: `dir_fd` is the open
// directory that holds the entry (AT_FDCWD for the root, whose `name` is
// then its absolute path), so that the entry can be opened with
// openat(dir_fd, name) without resolving its path again.
struct WalkEntry {
  std::string absolute_path;
  std::string relative_path;  // "." for the root, else "a/b/c"
  std::string name;           // the last component (the root: absolute)
  int dir_fd = -1;
  struct stat st;
};

class VolumeWalker {
 public:
  using Visitor = std::function<absl::Status(const WalkEntry&)>;

  VolumeWalker(std::string root, std::vector<std::string> excludes);

  // Calls `visit` for the root and every entry below it. Stops at the first
  // error, from the file system or from `visit`, and returns it.
  absl::Status Walk(const Visitor& visit);

  // True when `relative_path` is excluded by the globs.
  bool IsExcluded(const std::string& relative_path) const;

 private:
  // Visits what directory `dir_fd` (owned: closed here) holds.
  absl::Status WalkDirectory(int dir_fd, const std::string& abs,
                             const std::string& rel, dev_t device,
                             const Visitor& visit);

  std::string root_;
  std::vector<std::string> excludes_;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_BACKUP_VOLUME_WALKER_H_
