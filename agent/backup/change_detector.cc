#include "agent/backup/change_detector.h"

#include "common/utf8_escape.h"

namespace dxbackup::agent {

v1::FileEntry FileEntryFromStat(const WalkEntry& walk) {
  const struct stat& st = walk.st;
  v1::FileEntry e;
  e.set_path(common::EscapeToUtf8(walk.relative_path));
  e.set_type(S_ISREG(st.st_mode)   ? (st.st_nlink > 1 ? "hardlink" : "file")
             : S_ISDIR(st.st_mode) ? "dir"
             : S_ISLNK(st.st_mode) ? "symlink"
                                   : "other");
  e.set_size(S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0);
  e.set_mode(st.st_mode & 07777);
  e.set_mtime_unix(st.st_mtim.tv_sec);
  e.set_mtime_nsec(static_cast<int32_t>(st.st_mtim.tv_nsec));
  e.set_ctime_unix(st.st_ctim.tv_sec);
  e.set_ctime_nsec(static_cast<int32_t>(st.st_ctim.tv_nsec));
  e.set_inode(st.st_ino);
  e.set_uid(st.st_uid);
  e.set_gid(st.st_gid);
  return e;
}

absl::StatusOr<bool> ChangeDetector::Changed(const WalkEntry& walk) {
  if (!S_ISREG(walk.st.st_mode) || walk.st.st_nlink > 1) return true;
  const v1::FileEntry now = FileEntryFromStat(walk);
  // Skip base entries before this path: files deleted since the base, or
  // entries that are not compared.
  while (!base_done_ && (!have_current_ || current_.path() < now.path())) {
    absl::StatusOr<bool> more = base_->Next(&current_);
    if (!more.ok()) return more.status();
    have_current_ = *more;
    base_done_ = !*more;
  }
  if (!have_current_ || current_.path() != now.path()) return true;
  const v1::FileEntry& was = current_;
  const bool same =
      was.type() == "file" && was.size() == now.size() &&
      was.mode() == now.mode() && was.mtime_unix() == now.mtime_unix() &&
      was.mtime_nsec() == now.mtime_nsec() &&
      was.ctime_unix() == now.ctime_unix() &&
      was.ctime_nsec() == now.ctime_nsec() && was.inode() == now.inode() &&
      was.uid() == now.uid() && was.gid() == now.gid();
  if (same) ++unchanged_;
  return !same;
}

}  // namespace dxbackup::agent
