// VolumeWalker visits every entry under a volume's root in byte order of
// the volume-relative paths ("a", "a-b", "a.txt", "a/x": the order of the
// catalog's file index, so change detection can merge the two), without
// crossing into
// another file system (a mount point is visited, its contents are not) and
// without following symlinks (the root itself is resolved first).
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

struct WalkEntry {
  std::string absolute_path;
  std::string relative_path;  // "." for the root, else "a/b/c"
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
  absl::Status WalkDirectory(const std::string& abs, const std::string& rel,
                             dev_t device, const Visitor& visit);

  std::string root_;
  std::vector<std::string> excludes_;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_BACKUP_VOLUME_WALKER_H_
