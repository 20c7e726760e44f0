#include "agent/archive_extractor.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/path_list.h"
#include "common/log.h"

namespace dxbackup::agent {

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

ArchiveExtractor::ArchiveExtractor(ByteSource* source, std::string root)
    : source_(source), root_(std::move(root)) {}

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
  const int root =
      open(resolved_root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return;
  for (const auto& [dir, t] : dir_times_) {
    // Component by component, never through a symlink: a hostile archive
    // may have turned a directory into a link since.
    int fd = dup(root);
    if (dir != ".") {
      for (absl::string_view part : absl::StrSplit(dir, '/')) {
        const int next =
            openat(fd, std::string(part).c_str(),
                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
        if (fd < 0) break;
      }
    }
    if (fd < 0) continue;
    const struct timespec times[2] = {t.atime, t.mtime};
    futimens(fd, times);
    close(fd);
  }
  close(root);
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
      path_list_->insert(pending.substr(start, end - start));
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

absl::Status ArchiveExtractor::Extract() {
  char resolved[PATH_MAX];
  if (realpath(root_.c_str(), resolved) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("restore root ", root_, ": ", std::strerror(errno)));
  }
  const std::string root = resolved;
  resolved_root_ = root;

  struct archive* in = archive_read_new();
  archive_read_support_format_tar(in);
  archive_read_support_filter_zstd(in);
  archive_read_support_filter_gzip(in);
  archive_read_support_filter_none(in);
  struct archive* out = archive_write_disk_new();
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
              ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_XATTR |
              ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
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
    if (!Wanted(*name)) {
      if (archive_read_data_skip(in) != ARCHIVE_OK) {
        if (!source_status_.ok()) return fail(source_status_);
        return fail(absl::DataLossError(
            absl::StrCat("corrupt or truncated archive in ", *name, ": ",
                         archive_error_string(in))));
      }
      continue;
    }
    if (record_names_) names_.insert(*name);
    if (archive_entry_filetype(entry) == AE_IFDIR) {
      dir_times_[*name] = {
          {archive_entry_atime(entry), archive_entry_atime_nsec(entry)},
          {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}};
    }
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFCHR || type == AE_IFBLK) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("entry ", *name,
                       " is a device node; a restore never creates devices")));
    }
    if (!keep_setid_ && type != AE_IFDIR) {
      archive_entry_set_perm(entry,
                             archive_entry_perm(entry) & ~(S_ISUID | S_ISGID));
    }
    archive_entry_copy_pathname(
        entry, (*name == "." ? root : root + "/" + *name).c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      absl::StatusOr<std::string> target = SafeRelativeName(link);
      if (!target.ok()) {
        return fail(absl::InvalidArgumentError(absl::StrCat(
            "hard link ", *name, ": ", target.status().message())));
      }
      archive_entry_copy_hardlink(entry, (root + "/" + *target).c_str());
    }
    rc = archive_write_header(out, entry);
    if (rc < ARCHIVE_WARN) {
      return fail(absl::PermissionDeniedError(absl::StrCat(
          "cannot restore ", *name, ": ", archive_error_string(out))));
    }
    if (rc == ARCHIVE_WARN) {
      DXLOG(WARNING) << "restoring " << *name << ": "
                     << archive_error_string(out);
    }
    if (archive_entry_size(entry) > 0) {
      const void* block;
      size_t size;
      la_int64_t offset;
      while ((rc = archive_read_data_block(in, &block, &size, &offset)) ==
             ARCHIVE_OK) {
        if (archive_write_data_block(out, block, size, offset) < ARCHIVE_OK) {
          return fail(absl::DataLossError(absl::StrCat(
              "cannot write ", *name, ": ", archive_error_string(out))));
        }
      }
      if (rc != ARCHIVE_EOF) {
        if (!source_status_.ok()) return fail(source_status_);
        return fail(absl::DataLossError(
            absl::StrCat("corrupt or truncated archive in ", *name, ": ",
                         archive_error_string(in))));
      }
    }
    if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
      return fail(absl::DataLossError(absl::StrCat(
          "cannot finish ", *name, ": ", archive_error_string(out))));
    }
    ++files_;
  }
  // Directory times and modes are applied at close.
  if (archive_write_close(out) != ARCHIVE_OK) {
    return fail(absl::DataLossError(absl::StrCat(
        "cannot finish restore into ", root, ": ", archive_error_string(out))));
  }
  archive_read_free(in);
  archive_write_free(out);
  // libarchive sets the times of directories it creates; those that were
  // there already, and those whose entries were replaced, get them here.
  RestoreDirectoryTimes();
  return absl::OkStatus();
}

}  // namespace dxbackup::agent
