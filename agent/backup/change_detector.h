// ChangeDetector decides, for an incremental capture, which walked entries
// go into the archive: it merges the walk with the base's file index, both
// in byte order of the path (see VolumeWalker), the way restic compares
// with its parent snapshot. Memory stays constant: one base entry is held.
//
// A regular file with one link is unchanged when its base entry has the
// same type, size, permissions, mtime and ctime (to the nanosecond), inode,
// owner and group. Everything else — new files, hard-linked files,
// directories, symlinks, devices — is always stored: directories and links
// are a header each, and storing them keeps their times and targets exact.
//
// Not thread-safe.
#ifndef DXBACKUP_AGENT_BACKUP_CHANGE_DETECTOR_H_
#define DXBACKUP_AGENT_BACKUP_CHANGE_DETECTOR_H_

#include "absl/status/statusor.h"
#include "agent/backup/volume_walker.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::agent {

// The base's index entries, in path order.
class BaseIndexSource {
 public:
  virtual ~BaseIndexSource() = default;
  // Fills `entry` and returns true, or returns false at the end.
  virtual absl::StatusOr<bool> Next(v1::FileEntry* entry) = 0;
};

class ChangeDetector {
 public:
  // `base` must outlive the detector.
  explicit ChangeDetector(BaseIndexSource* base) : base_(base) {}

  // Called for each walked entry in walk order. True: store it.
  absl::StatusOr<bool> Changed(const WalkEntry& entry);

  uint64_t unchanged() const { return unchanged_; }

 private:
  BaseIndexSource* base_;
  v1::FileEntry current_;
  bool have_current_ = false;
  bool base_done_ = false;
  uint64_t unchanged_ = 0;
};

// The index entry of a walked file, from its stat (no link target).
v1::FileEntry FileEntryFromStat(const WalkEntry& entry);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_BACKUP_CHANGE_DETECTOR_H_
