// Removal for restores, from held descriptors, never following a symlink.
//
// RemoveEntriesNotIn makes a restored volume exactly the backed-up tree:
// it removes every entry under `root` (at or below `under`, if given) whose
// volume-relative name is not in `keep` (a fresh cursor of a sealed set;
// memory stays bounded by the widest directory and the depth). It works from
// the root's held descriptor (never its path), never follows a symlink, never
// leaves the root's file system, and never touches anything outside the root.
// Returns how many entries it removed, or an error naming the first it could
// not. `touched`, if given, receives the (relative) directories it removed
// entries from, whose times the caller may want to put back. `only`, if given,
// limits removal to the entries it names (an overlay restore of an incremental
// chain removes only what the chain itself wrote and the restored moment
// lacks).
#ifndef DXBACKUP_AGENT_RESTORE_VOLUME_REPLACER_H_
#define DXBACKUP_AGENT_RESTORE_VOLUME_REPLACER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/restore/path_set.h"
#include "agent/restore/restore_root.h"

namespace dxbackup::agent {

// Removes `name` in the directory open as `dirfd` and, if it is a
// directory, everything below it: never following a symlink, never into
// another file system (FailedPrecondition). `shown_as` names it in errors.
// Returns how many entries it removed.
absl::StatusOr<uint64_t> RemoveTreeAt(int dirfd, const std::string& name,
                                      const std::string& shown_as);

absl::StatusOr<uint64_t> RemoveEntriesNotIn(
    const RestoreRoot& root, PathSet::Cursor* keep,
    const std::vector<std::string>& under,
    std::vector<std::string>* touched = nullptr,
    PathSet::Cursor* only = nullptr);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_RESTORE_VOLUME_REPLACER_H_
