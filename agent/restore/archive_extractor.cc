#include "agent/restore/archive_extractor.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/path_list.h"
#include "agent/restore/volume_replacer.h"
#include "common/log.h"

namespace dxbackup::agent {
namespace {
constexpr char kCapabilityXattr[] = "security.capability";
}  // namespace

absl::StatusOr<std::string> SafeRelativeName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("entry with empty name");
  if (name.size() >= PATH_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing entry name of ", name.size(),
        " bytes (longer than PATH_MAX) starting \"", name.substr(0, 64), "\""));
  }
  if (name[0] == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing absolute entry name \"", name, "\""));
  }
  std::string clean;
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("refusing entry name with \"..\": \"", name, "\""));
    }
    if (!clean.empty()) clean.push_back('/');
    clean.append(part.data(), part.size());
  }
  return clean.empty() ? std::string(".") : clean;
}

ArchiveExtractor::ArchiveExtractor(ByteSource* source, const RestoreRoot* root)
    : source_(source), root_(root) {}

bool IsAtOrBelow(const std::string& name, const std::string& path) {
  if (path.empty() || path == ".") return true;
  return name == path ||
         (name.size() > path.size() &&
          name.compare(0, path.size(), path) == 0 && name[path.size()] == '/');
}

void ArchiveExtractor::set_only_paths(std::vector<std::string> paths) {
  only_paths_.clear();
  for (const std::string& p : paths) {
    absl::StatusOr<std::string> clean = SafeRelativeName(p);
    only_paths_.push_back(clean.ok() ? *clean : p);
  }
}

bool ArchiveExtractor::Wanted(const std::string& name) const {
  if (only_paths_.empty()) return true;
  for (const std::string& p : only_paths_) {
    if (IsAtOrBelow(name, p)) return true;
  }
  return false;
}

long ArchiveExtractor::ReadCallback(struct archive* a, void* self,
                                    const void** buffer) {
  auto* x = static_cast<ArchiveExtractor*>(self);
  absl::StatusOr<std::string_view> piece = x->source_->Next();
  if (!piece.ok()) {
    x->source_status_ = piece.status();
    archive_set_error(a, EIO, "%s",
                      std::string(piece.status().message()).c_str());
    return -1;
  }
  *buffer = piece->data();
  return static_cast<long>(piece->size());
}

void ArchiveExtractor::RestoreDirectoryTimes() const {
  for (const auto& [dir, t] : dir_times_) {
    // Component by component, never through a symlink: a hostile archive
    // may have turned a directory into a link since.
    absl::StatusOr<UniqueFd> fd = root_->OpenDirectory(dir);
    if (!fd.ok()) continue;
    const struct timespec times[2] = {t.atime, t.mtime};
    futimens(fd->get(), times);
  }
}

absl::Status ArchiveExtractor::ReadPathList(struct archive* in,
                                            const std::string& name) {
  saw_path_list_ = true;
  std::string pending;
  const void* block;
  size_t size;
  la_int64_t offset;
  int rc;
  while ((rc = archive_read_data_block(in, &block, &size, &offset)) ==
         ARCHIVE_OK) {
    if (path_list_ == nullptr) continue;
    pending.append(static_cast<const char*>(block), size);
    size_t start = 0;
    for (size_t end; (end = pending.find('\0', start)) != std::string::npos;
         start = end + 1) {
      absl::Status s =
          path_list_->Add(std::string_view(pending).substr(start, end - start));
      if (!s.ok()) return s;
    }
    pending.erase(0, start);
  }
  if (rc != ARCHIVE_EOF) {
    if (!source_status_.ok()) return source_status_;
    return absl::DataLossError(absl::StrCat("corrupt or truncated archive in ",
                                            name, ": ",
                                            archive_error_string(in)));
  }
  if (!pending.empty()) {
    return absl::DataLossError(
        absl::StrCat("path list ", name, " ends inside a name"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ArchiveExtractor::Admit(struct archive_entry* entry,
                                             const std::string& name) const {
  const auto type = archive_entry_filetype(entry);
  if (name == "." && (type != AE_IFDIR || archive_entry_hardlink(entry))) {
    const char* what = archive_entry_hardlink(entry) ? "a hard link"
                       : type == AE_IFLNK            ? "a symbolic link"
                       : type == AE_IFREG            ? "a file"
                                                     : "a special file";
    return absl::InvalidArgumentError(
        absl::StrCat("entry \"", archive_entry_pathname(entry),
                     "\" names the restore root as ", what,
                     "; the root is only ever restored as a directory"));
  }
  if (type == AE_IFCHR || type == AE_IFBLK) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entry ", name, " is a device node; a restore never creates devices"));
  }
  if (type == AE_IFIFO || type == AE_IFSOCK) {
    DXLOG(WARNING) << "not restoring " << name << ": a "
                   << (type == AE_IFIFO ? "FIFO" : "socket")
                   << " holds no data, and the program that uses it makes it";
    return false;
  }
  return true;
}

void ArchiveExtractor::DropPrivileges(struct archive_entry* entry) const {
  if (keep_setid_) return;
  if (archive_entry_filetype(entry) != AE_IFDIR) {
    archive_entry_set_perm(entry,
                           archive_entry_perm(entry) & ~(S_ISUID | S_ISGID));
  }
  // File capabilities grant what setuid does: dropped likewise.
  std::vector<std::pair<std::string, std::string>> kept;
  bool dropped = false;
  archive_entry_xattr_reset(entry);
  const char* key;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK) {
    if (std::strcmp(key, kCapabilityXattr) == 0) {
      dropped = true;
    } else {
      kept.emplace_back(key,
                        std::string(static_cast<const char*>(value), size));
    }
  }
  if (!dropped) return;
  archive_entry_xattr_clear(entry);
  for (const auto& [k, v] : kept) {
    archive_entry_xattr_add_entry(entry, k.c_str(), v.data(), v.size());
  }
}

absl::Status ArchiveExtractor::PinEntry(struct archive_entry* entry,
                                        const std::string& name) const {
  // libarchive resolves names itself: every directory on the way must be
  // a directory, not a symlink, when it does. (Missing ones it makes.)
  const size_t slash = name.rfind('/');
  const std::string parent =
      slash == std::string::npos ? "." : name.substr(0, slash);
  absl::StatusOr<UniqueFd> dir = root_->OpenDirectory(parent);
  if (dir.ok()) {
    // A symlink at the entry's name is replaced, never followed; so is a
    // directory, when it may be, by a non-directory.
    const std::string leaf = name.substr(slash + 1);
    struct stat st;
    if (fstatat(dir->get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      st.st_mode = 0;
    }
    if (S_ISLNK(st.st_mode) && unlinkat(dir->get(), leaf.c_str(), 0) != 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot replace the symlink ", name, ": ", std::strerror(errno)));
    }
    if (S_ISDIR(st.st_mode) && replace_directories_ &&
        archive_entry_filetype(entry) != AE_IFDIR) {
      absl::StatusOr<uint64_t> removed = RemoveTreeAt(dir->get(), leaf, name);
      if (!removed.ok()) {
        return absl::Status(removed.status().code(),
                            absl::StrCat("cannot replace the directory ", name,
                                         ": ", removed.status().message()));
      }
    }
  } else if (absl::IsFailedPrecondition(dir.status())) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot restore ", name, ": ", dir.status().message(),
                     "; a restore never writes through one"));
  }
  const std::string pinned = root_->PinnedName(name);
  if (pinned.size() >= PATH_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing entry ", name.substr(0, 64), "...: its name under ",
        root_->path(), " is longer than PATH_MAX"));
  }
  archive_entry_copy_pathname(entry, pinned.c_str());
  const char* link = archive_entry_hardlink(entry);
  if (link == nullptr) return absl::OkStatus();
  absl::StatusOr<std::string> target = SafeRelativeName(link);
  if (target.ok() && *target == ".") {
    target = absl::InvalidArgumentError("it names the restore root");
  }
  if (target.ok()) {
    const size_t cut = target->rfind('/');
    absl::StatusOr<UniqueFd> way = root_->OpenDirectory(
        cut == std::string::npos ? "." : target->substr(0, cut));
    if (absl::IsFailedPrecondition(way.status())) {
      target = absl::InvalidArgumentError(
          absl::StrCat("its target ", *target,
                       " lies beyond a symlink: ", way.status().message()));
    }
  }
  if (!target.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("hard link ", name, ": ", target.status().message()));
  }
  const std::string pinned_target = root_->PinnedName(*target);
  if (pinned_target.size() >= PATH_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hard link ", name, ": its target is longer than PATH_MAX"));
  }
  archive_entry_copy_hardlink(entry, pinned_target.c_str());
  return absl::OkStatus();
}

void ArchiveExtractor::RestoreRootMetadata(struct archive* out,
                                           struct archive_entry* entry) {
  const int fd = root_->fd();
  if (geteuid() == 0) {
    const auto uid = archive_write_disk_uid(out, archive_entry_uname(entry),
                                            archive_entry_uid(entry));
    const auto gid = archive_write_disk_gid(out, archive_entry_gname(entry),
                                            archive_entry_gid(entry));
    if (fchown(fd, static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) {
      DXLOG(WARNING) << "restoring the owner of " << root_->path() << ": "
                     << std::strerror(errno);
    }
  }
  // Its mode is set at the end (a read-only root would stop the restore).
  root_mode_ = archive_entry_perm(entry) & 07777;
  archive_entry_xattr_reset(entry);
  const char* key;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK) {
    if (fsetxattr(fd, key, value, size, 0) != 0) {
      DXLOG(WARNING) << "restoring xattr " << key << " of " << root_->path()
                     << ": " << std::strerror(errno);
    }
  }
  if (archive_entry_acl_count(entry, ARCHIVE_ENTRY_ACL_TYPE_POSIX1E) > 0) {
    DXLOG(WARNING) << "the ACLs of the restore root " << root_->path()
                   << " are not restored (those of everything below it are)";
  }
}

absl::Status ArchiveExtractor::WriteEntry(struct archive* in,
                                          struct archive* out,
                                          struct archive_entry* entry,
                                          const std::string& name) {
  int rc = archive_write_header(out, entry);
  if (rc < ARCHIVE_WARN) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot restore ", name, ": ", archive_error_string(out)));
  }
  if (rc == ARCHIVE_WARN) {
    DXLOG(WARNING) << "restoring " << name << ": " << archive_error_string(out);
  }
  if (archive_entry_size(entry) > 0) {
    const void* block;
    size_t size;
    la_int64_t offset;
    while ((rc = archive_read_data_block(in, &block, &size, &offset)) ==
           ARCHIVE_OK) {
      if (archive_write_data_block(out, block, size, offset) < ARCHIVE_OK) {
        return absl::DataLossError(absl::StrCat("cannot write ", name, ": ",
                                                archive_error_string(out)));
      }
    }
    if (rc != ARCHIVE_EOF) {
      if (!source_status_.ok()) return source_status_;
      return absl::DataLossError(
          absl::StrCat("corrupt or truncated archive in ", name, ": ",
                       archive_error_string(in)));
    }
  }
  if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
    return absl::DataLossError(
        absl::StrCat("cannot finish ", name, ": ", archive_error_string(out)));
  }
  return absl::OkStatus();
}

absl::Status ArchiveExtractor::Extract() {
  struct archive* in = archive_read_new();
  archive_read_support_format_tar(in);
  archive_read_support_filter_zstd(in);
  archive_read_support_filter_gzip(in);
  archive_read_support_filter_none(in);
  struct archive* out = archive_write_disk_new();
  // Names are pinned below the root's descriptor (/proc/self/fd/N/...),
  // and "self" and "N" are symlinks, so libarchive's own symlink check
  // (ARCHIVE_EXTRACT_SECURE_SYMLINKS) would refuse them all; PinEntry does
  // that check instead, from the held descriptor.
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
              ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_XATTR |
              ARCHIVE_EXTRACT_SECURE_NODOTDOT;
  if (geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(out, flags);
  archive_write_disk_set_standard_lookup(out);

  auto fail = [&](absl::Status s) {
    archive_read_free(in);
    archive_write_free(out);
    return s;
  };
  if (archive_read_open(in, this, nullptr, &ReadCallback, nullptr) !=
      ARCHIVE_OK) {
    if (!source_status_.ok()) return fail(source_status_);
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "restore stream is not a tar archive: ", archive_error_string(in))));
  }
  for (;;) {
    struct archive_entry* entry = nullptr;
    int rc = archive_read_next_header(in, &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      if (!source_status_.ok()) return fail(source_status_);
      return fail(absl::DataLossError(
          absl::StrCat("corrupt or truncated archive after ", files_,
                       " entries: ", archive_error_string(in))));
    }
    absl::StatusOr<std::string> name =
        SafeRelativeName(archive_entry_pathname(entry));
    if (!name.ok()) return fail(name.status());
    if (IsAtOrBelow(*name, kPathListDir)) {  // an incremental's path list
      absl::Status listed = ReadPathList(in, *name);
      if (!listed.ok()) return fail(listed);
      continue;
    }
    bool restore = Wanted(*name);
    if (restore) {
      absl::StatusOr<bool> admitted = Admit(entry, *name);
      if (!admitted.ok()) return fail(admitted.status());
      restore = *admitted;
    }
    if (!restore) {
      if (archive_read_data_skip(in) != ARCHIVE_OK) {
        if (!source_status_.ok()) return fail(source_status_);
        return fail(absl::DataLossError(
            absl::StrCat("corrupt or truncated archive in ", *name, ": ",
                         archive_error_string(in))));
      }
      continue;
    }
    if (names_ != nullptr) {
      absl::Status s = names_->Add(*name);
      if (!s.ok()) return fail(s);
    }
    if (archive_entry_filetype(entry) == AE_IFDIR) {
      dir_times_[*name] = {
          {archive_entry_atime(entry), archive_entry_atime_nsec(entry)},
          {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}};
    }
    DropPrivileges(entry);
    if (*name == ".") {
      RestoreRootMetadata(out, entry);
    } else {
      absl::Status s = PinEntry(entry, *name);
      if (s.ok()) s = WriteEntry(in, out, entry, *name);
      if (!s.ok()) return fail(s);
    }
    ++files_;
  }
  // Directory times and modes are applied at close.
  if (archive_write_close(out) != ARCHIVE_OK) {
    return fail(absl::DataLossError(absl::StrCat("cannot finish restore into ",
                                                 root_->path(), ": ",
                                                 archive_error_string(out))));
  }
  archive_read_free(in);
  archive_write_free(out);
  if (root_mode_ && fchmod(root_->fd(), *root_mode_) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot set the mode of the restore root ", root_->path(),
                     ": ", std::strerror(errno)));
  }
  // libarchive sets the times of directories it creates; those that were
  // there already, and those whose entries were replaced, get them here.
  RestoreDirectoryTimes();
  return absl::OkStatus();
}

}  // namespace dxbackup::agent
