// RestoreRoot is the directory a restore writes into, opened once: every
// later step reaches the tree through the descriptor held here and never
// resolves the root's path again. An archive entry, or anyone else, that
// replaces the root (with a symlink, say) after it was opened changes
// nothing for the restore: it goes on in the directory that was opened.
//
//   absl::StatusOr<RestoreRoot> root = RestoreRoot::Open("/restore/here");
//   if (!root.ok()) return root.status();
//   ArchiveExtractor extractor(&source, &*root);
//
// Immutable once open; safe to share between threads.
#ifndef DXBACKUP_AGENT_RESTORE_RESTORE_ROOT_H_
#define DXBACKUP_AGENT_RESTORE_RESTORE_ROOT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/restore/unique_fd.h"

namespace dxbackup::agent {

class RestoreRoot {
 public:
  // Opens the directory `path`. Its last component must not be a symlink
  // (FailedPrecondition saying so); earlier ones are followed, once. Also
  // FailedPrecondition if /proc is not mounted (see PinnedName).
  static absl::StatusOr<RestoreRoot> Open(const std::string& path);

  RestoreRoot(RestoreRoot&&) = default;
  RestoreRoot& operator=(RestoreRoot&&) = default;

  // The descriptor of the root directory, owned by this object.
  int fd() const { return fd_.get(); }
  // The path it was opened by: for messages only, never to reach the tree.
  const std::string& path() const { return path_; }

  // An absolute name the kernel resolves through the held descriptor,
  // "/proc/self/fd/<fd>" followed by "/" and `relative` (nothing for
  // "."), for interfaces that take only names (libarchive). It stays
  // valid while this object lives. A symlink inside `relative` is still
  // followed: check the components first (OpenDirectory).
  std::string PinnedName(absl::string_view relative) const;

  // Opens the directory `relative` ("." is the root itself) one component
  // at a time, never following a symlink. FailedPrecondition naming the
  // component when one is a symlink; NotFound when one is missing or is
  // not a directory.
  absl::StatusOr<UniqueFd> OpenDirectory(absl::string_view relative) const;

 private:
  RestoreRoot(UniqueFd fd, std::string path)
      : fd_(std::move(fd)), path_(std::move(path)) {}

  UniqueFd fd_;
  std::string path_;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_RESTORE_RESTORE_ROOT_H_
