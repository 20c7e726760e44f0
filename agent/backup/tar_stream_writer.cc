#include "agent/backup/tar_stream_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "agent/backup/change_detector.h"
#include "common/log.h"
#include "common/utf8_escape.h"

namespace dxbackup::agent {
namespace {
constexpr size_t kReadBytes = 256 << 10;
constexpr size_t kPathListBytes = 1 << 20;
// Files at least this large are sampled for compressibility; smaller ones
// are compressed as they come (a frame switch would cost more).
constexpr int64_t kSampledFileBytes = 64 << 10;
// Smaller regular files are stored whole, holes and all (zstd makes
// little of a hole that small).
constexpr int64_t kSparseFileBytes = 1 << 20;

// What libarchive need not look for in an open file's metadata: holes
// (lseek SEEK_DATA/SEEK_HOLE, six calls) in a file too small to gain from
// them, and xattrs and POSIX ACLs (a listxattr, a getxattr per ACL kind and
// an fstat) when one flistxattr here says it has no extended attribute at
// all — ACLs are extended attributes too (system.posix_acl_*). Most files
// of a DX volume have none: for a small file, libarchive's metadata then
// costs two system calls (the flistxattr here and its flags ioctl), not
// ten.
int MetadataToSkip(int fd, const struct stat& st) {
  int skip = 0;
  if (S_ISREG(st.st_mode) && st.st_size < kSparseFileBytes) {
    skip |= ARCHIVE_READDISK_NO_SPARSE;
  }
  if (fd >= 0 && flistxattr(fd, nullptr, 0) == 0) {
    skip |= ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL;
  }
  return skip;
}

v1::FileEntry IndexEntry(struct archive_entry* entry) {
  v1::FileEntry out;
  out.set_path(common::EscapeToUtf8(archive_entry_pathname(entry)));
  const char* hardlink = archive_entry_hardlink(entry);
  const char* symlink = archive_entry_symlink(entry);
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      out.set_type(hardlink != nullptr ? "hardlink" : "file");
      break;
    case AE_IFDIR:
      out.set_type("dir");
      break;
    case AE_IFLNK:
      out.set_type("symlink");
      break;
    default:
      out.set_type(hardlink != nullptr ? "hardlink" : "other");
      break;
  }
  if (hardlink != nullptr) out.set_link(common::EscapeToUtf8(hardlink));
  if (symlink != nullptr) out.set_link(common::EscapeToUtf8(symlink));
  out.set_size(static_cast<uint64_t>(archive_entry_size(entry)));
  out.set_mode(archive_entry_perm(entry));
  out.set_mtime_unix(archive_entry_mtime(entry));
  out.set_mtime_nsec(static_cast<int32_t>(archive_entry_mtime_nsec(entry)));
  out.set_ctime_unix(archive_entry_ctime(entry));
  out.set_ctime_nsec(static_cast<int32_t>(archive_entry_ctime_nsec(entry)));
  out.set_inode(static_cast<uint64_t>(archive_entry_ino64(entry)));
  out.set_uid(static_cast<uint32_t>(archive_entry_uid(entry)));
  out.set_gid(static_cast<uint32_t>(archive_entry_gid(entry)));
  return out;
}

}  // namespace

TarStreamWriter::TarStreamWriter(common::ByteSink* sink,
                                 const v1::CaptureOptions& options,
                                 EntryObserver* observer)
    : sink_(sink), observer_(observer), options_(options) {}

TarStreamWriter::~TarStreamWriter() {
  if (links_ != nullptr) archive_entry_linkresolver_free(links_);
  if (disk_ != nullptr) archive_read_free(disk_);
  if (archive_ != nullptr) archive_write_free(archive_);
}

long TarStreamWriter::WriteCallback(struct archive*, void* self,
                                    const void* data, size_t size) {
  auto* writer = static_cast<TarStreamWriter*>(self);
  absl::Status s = writer->out_->Write(data, size);
  if (!s.ok()) {
    writer->sink_status_ = s;
    return -1;
  }
  return static_cast<long>(size);
}

absl::Status TarStreamWriter::ArchiveError(const std::string& what) {
  if (!sink_status_.ok()) return sink_status_;
  const char* msg = archive_ ? archive_error_string(archive_) : nullptr;
  return absl::InternalError(
      absl::StrCat(what, ": ", msg ? msg : "libarchive error"));
}

absl::Status TarStreamWriter::Open() {
  archive_ = archive_write_new();
  disk_ = archive_read_disk_new();
  links_ = archive_entry_linkresolver_new();
  buffer_.resize(kReadBytes);
  archive_entry_linkresolver_set_strategy(links_,
                                          ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE);
  archive_read_disk_set_standard_lookup(disk_);
  // Full pax, not pax_restricted: every entry carries its mtime to the
  // nanosecond and its xattrs, which GNU tar restores too.
  archive_write_set_format_pax(archive_);
  // xattrs in the SCHILY form only: GNU tar and libarchive both read it, and
  // GNU tar warns about libarchive's own form.
  archive_write_set_format_option(archive_, "pax", "xattrheader", "SCHILY");

  const int level = options_.compression_level();
  out_ = sink_;
  switch (options_.compression()) {
    case v1::COMPRESSION_NONE:
      break;
    case v1::COMPRESSION_GZIP:
      archive_write_add_filter_gzip(archive_);
      if (level > 0) {
        archive_write_set_filter_option(archive_, "gzip", "compression-level",
                                        std::to_string(level).c_str());
      }
      break;
    default:
      // Our own zstd stream rather than libarchive's filter, whose
      // multi-threaded mode takes tens of MiB per stream.
      zstd_ = std::make_unique<common::ZstdSink>(
          sink_, level > 0 ? level : 3, std::max(options_.threads(), 0));
      out_ = zstd_.get();
      break;
  }
  archive_write_set_bytes_in_last_block(archive_, 1);
  if (archive_write_open(archive_, this, nullptr, &WriteCallback, nullptr) !=
      ARCHIVE_OK) {
    return ArchiveError("cannot start archive");
  }
  return absl::OkStatus();
}

absl::Status TarStreamWriter::ListPath(const std::string& relative_path) {
  if (!incremental_) return absl::OkStatus();
  path_list_.append(relative_path);
  path_list_.push_back('\0');
  if (path_list_.size() >= kPathListBytes) return FlushPathList();
  return absl::OkStatus();
}

absl::Status TarStreamWriter::FlushPathList() {
  char name[64];
  std::snprintf(name, sizeof name, "%s%06d", kPathListPrefix, path_lists_++);
  struct archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, name);
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_perm(entry, 0600);
  archive_entry_set_size(entry, static_cast<la_int64_t>(path_list_.size()));
  archive_entry_set_mtime(entry, time(nullptr), 0);
  const int rc = archive_write_header(archive_, entry);
  archive_entry_free(entry);
  if (rc != ARCHIVE_OK) return ArchiveError("cannot write the path list");
  ++files_;
  if (!path_list_.empty() &&
      archive_write_data(archive_, path_list_.data(), path_list_.size()) < 0) {
    return ArchiveError("cannot write the path list");
  }
  path_list_.clear();
  return absl::OkStatus();
}

absl::Status TarStreamWriter::AddUnchanged(const WalkEntry& walk) {
  absl::Status s = ListPath(walk.relative_path);
  if (!s.ok() || observer_ == nullptr) return s;
  v1::FileEntry entry = FileEntryFromStat(walk);
  entry.set_unchanged(true);
  return observer_->OnEntry(std::move(entry));
}

absl::Status TarStreamWriter::Add(const WalkEntry& walk) {
  absl::Status listed = ListPath(walk.relative_path);
  if (!listed.ok()) return listed;
  int fd = -1;
  if (S_ISREG(walk.st.st_mode)) {
    fd = openat(walk.dir_fd, walk.name.c_str(),
                O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT) return absl::OkStatus();  // removed since the walk
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot open ", walk.absolute_path, ": ", std::strerror(errno)));
    }
  }
  struct archive_entry* entry = archive_entry_new();
  archive_entry_copy_sourcepath(entry, walk.absolute_path.c_str());
  struct stat st = walk.st;
  archive_read_disk_set_behavior(disk_, MetadataToSkip(fd, st));
  if (archive_read_disk_entry_from_file(disk_, entry, fd, &st) != ARCHIVE_OK) {
    std::string err = archive_error_string(disk_) ? archive_error_string(disk_)
                                                  : "unknown error";
    DXLOG(WARNING) << "metadata of " << walk.absolute_path
                   << " partly unreadable: " << err;
  }
  archive_entry_copy_pathname(entry, walk.relative_path.c_str());

  struct archive_entry* spare = nullptr;
  archive_entry_linkify(links_, &entry, &spare);
  absl::Status s = absl::OkStatus();
  if (entry != nullptr) s = WriteEntry(entry, fd);
  if (s.ok() && spare != nullptr) s = WriteEntry(spare, -1);
  if (entry != nullptr) archive_entry_free(entry);
  if (spare != nullptr) archive_entry_free(spare);
  if (fd >= 0) close(fd);
  return s;
}

absl::Status TarStreamWriter::WriteEntry(struct archive_entry* entry, int fd) {
  const int rc = archive_write_header(archive_, entry);
  if (rc == ARCHIVE_WARN) {
    DXLOG(WARNING) << archive_entry_pathname(entry) << ": "
                   << archive_error_string(archive_);
  } else if (rc != ARCHIVE_OK) {
    return ArchiveError(
        absl::StrCat("cannot write header of ", archive_entry_pathname(entry)));
  }
  ++files_;
  if (observer_ != nullptr) {
    absl::Status s = observer_->OnEntry(IndexEntry(entry));
    if (!s.ok()) return s;
  }
  int64_t left = archive_entry_size(entry);
  if (fd < 0 || left <= 0 || archive_entry_hardlink(entry) != nullptr) {
    return absl::OkStatus();
  }
  bool first = true;
  while (left > 0) {
    ssize_t n =
        read(fd, buffer_.data(),
             static_cast<size_t>(std::min<int64_t>(left, buffer_.size())));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::DataLossError(absl::StrCat("cannot read ",
                                              archive_entry_sourcepath(entry),
                                              ": ", std::strerror(errno)));
    }
    if (n == 0) {
      // The file shrank while we read it; libarchive pads the entry.
      DXLOG(WARNING) << archive_entry_sourcepath(entry)
                     << " shrank while being read; padded with zeros";
      break;
    }
    if (zstd_ != nullptr && first) {
      // Media, archives and jars are already compressed: say so, from a
      // sample of the file's start, rather than search them for matches.
      first = false;
      absl::Status s = zstd_->SetIncompressible(
          archive_entry_size(entry) >= kSampledFileBytes &&
          common::LooksIncompressible(buffer_.data(), static_cast<size_t>(n)));
      if (!s.ok()) return s;
    }
    if (archive_write_data(archive_, buffer_.data(), static_cast<size_t>(n)) <
        0) {
      return ArchiveError(
          absl::StrCat("cannot write ", archive_entry_pathname(entry)));
    }
    left -= n;
    content_bytes_ += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status TarStreamWriter::Close() {
  // Entries with several links still pending in the resolver.
  struct archive_entry* entry = nullptr;
  struct archive_entry* spare = nullptr;
  for (;;) {
    entry = nullptr;
    archive_entry_linkify(links_, &entry, &spare);
    if (entry == nullptr) break;
    absl::Status s = WriteEntry(entry, -1);
    archive_entry_free(entry);
    if (!s.ok()) return s;
  }
  if (incremental_ && (!path_list_.empty() || path_lists_ == 0)) {
    absl::Status s = FlushPathList();
    if (!s.ok()) return s;
  }
  if (archive_write_close(archive_) != ARCHIVE_OK) {
    return ArchiveError("cannot finish archive");
  }
  if (zstd_ != nullptr) return zstd_->Finish();
  return absl::OkStatus();
}

}  // namespace dxbackup::agent
