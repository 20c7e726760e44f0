// PathSet is a set of volume-relative paths that may not fit in memory (a
// restore of a million files names a million paths): paths are added in
// any order, sorted runs spill to unnamed temporary files, and once sealed
// the set is read back in byte order by cursors, the way ChangeDetector
// merges a walk with a base index. Memory stays within the run budget
// (plus a small buffer per run while sealing) whatever the count.
//
//   PathSet kept("/tmp");
//   for (...) RETURN_IF_ERROR(kept.Add(name));
//   RETURN_IF_ERROR(kept.Seal());
//   PathSet::Cursor cursor = kept.Read();
//   absl::StatusOr<bool> has = cursor.Contains("a/b");  // in byte order
//
// Not thread-safe. A set must outlive its cursors.
#ifndef DXBACKUP_AGENT_RESTORE_PATH_SET_H_
#define DXBACKUP_AGENT_RESTORE_PATH_SET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/restore/unique_fd.h"

namespace dxbackup::agent {

class PathSet {
 public:
  static constexpr size_t kDefaultRunBytes = 8 << 20;

  // Runs spill to `temp_dir` (the system's temporary directory if empty)
  // once the paths held reach `run_bytes`.
  explicit PathSet(std::string temp_dir = "",
                   size_t run_bytes = kDefaultRunBytes);

  // Adds a path (no NUL in it). Fails only when a run cannot be written.
  absl::Status Add(std::string_view path);
  // Ends adding: merges the runs. Call once, before Read.
  absl::Status Seal();
  // Distinct paths in the set, once sealed.
  uint64_t size() const { return size_; }

  class Cursor;
  Cursor Read() const;

 private:
  // Reads NUL-terminated paths from a file, in order.
  class FileReader {
   public:
    explicit FileReader(int fd) : fd_(fd) {}
    // The next path into `path`; false at the end.
    absl::StatusOr<bool> Next(std::string* path);

   private:
    int fd_;
    uint64_t offset_ = 0;  // where the unread bytes start
    std::string buffer_;   // read, not yet consumed
    size_t consumed_ = 0;
  };

 public:
  // Reads a sealed set in byte order.
  class Cursor {
   public:
    // Whether `path` is in the set. A call's path must not sort before
    // the previous call's. Fails only when the set's file cannot be read.
    absl::StatusOr<bool> Contains(std::string_view path);

   private:
    friend class PathSet;
    explicit Cursor(const PathSet* set);
    // Moves to the next path; false at the end.
    absl::StatusOr<bool> Advance();

    const PathSet* set_;
    size_t index_ = 0;  // in memory: the next path's index
    FileReader file_;   // on disk
    std::string current_;
    bool started_ = false;
    bool at_end_ = false;
  };

 private:
  // Sorts the paths held and removes duplicates.
  void SortHeld();
  absl::Status Spill();
  absl::StatusOr<UniqueFd> NewTempFile() const;
  std::string_view Held(size_t i) const;

  std::string temp_dir_;
  size_t run_bytes_;
  std::string arena_;             // held paths, each NUL-terminated
  std::vector<uint32_t> starts_;  // where each held path starts in arena_
  std::vector<UniqueFd> runs_;
  UniqueFd merged_;  // once sealed, if anything spilled
  uint64_t size_ = 0;
  bool sealed_ = false;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_RESTORE_PATH_SET_H_
