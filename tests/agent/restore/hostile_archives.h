// Hand-crafted tar archives for restore tests and the extraction fuzz
// target's seeds: any name (empty, ".", "a/..", absolute), any type, hard
// links and symlinks to anywhere, xattrs, and incremental path lists.
//
//   std::string part = CraftArchive({{".", kSymlink, "/elsewhere"}});
//   std::string next = CraftIncremental({{"planted", kFile, "x"}},
//                                       {"planted"});
#ifndef DXBACKUP_TESTS_AGENT_RESTORE_HOSTILE_ARCHIVES_H_
#define DXBACKUP_TESTS_AGENT_RESTORE_HOSTILE_ARCHIVES_H_

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/path_list.h"
#include "agent/restore/archive_extractor.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::testing {

enum EntryType { kFile, kDir, kSymlink, kHardLink, kCharDevice, kFifo };

struct CraftedEntry {
  std::string name;
  EntryType type;
  std::string data_or_target;  // file data, symlink target or hardlink name
  mode_t perm = 0644;
  std::vector<std::pair<std::string, std::string>> xattrs = {};
};

// A pax tar of `entries`, uncompressed, in order.
inline std::string CraftArchive(const std::vector<CraftedEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](struct archive*, void* self, const void* data,
         size_t n) -> la_ssize_t {
        static_cast<std::string*>(self)->append(static_cast<const char*>(data),
                                                n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const CraftedEntry& e : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_perm(entry, e.perm);
    archive_entry_set_mtime(entry, 1700000000, 0);
    switch (e.type) {
      case kCharDevice:
        archive_entry_set_filetype(entry, AE_IFCHR);
        archive_entry_set_rdev(entry, makedev(1, 3));  // /dev/null's
        break;
      case kFifo:
        archive_entry_set_filetype(entry, AE_IFIFO);
        break;
      case kDir:
        archive_entry_set_filetype(entry, AE_IFDIR);
        break;
      case kSymlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.data_or_target.c_str());
        break;
      case kHardLink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.data_or_target.c_str());
        break;
      case kFile:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(
            entry, static_cast<la_int64_t>(e.data_or_target.size()));
        break;
    }
    for (const auto& [key, value] : e.xattrs) {
      archive_entry_xattr_add_entry(entry, key.c_str(), value.data(),
                                    value.size());
    }
    archive_write_header(a, entry);
    if (e.type == kFile) {
      archive_write_data(a, e.data_or_target.data(), e.data_or_target.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// An incremental archive: `entries`, then a path list naming `moment` (the
// paths present at the time, stored or not).
inline std::string CraftIncremental(std::vector<CraftedEntry> entries,
                                    const std::vector<std::string>& moment) {
  std::string list;
  for (const std::string& path : moment) {
    list.append(path);
    list.push_back('\0');
  }
  entries.push_back(
      {std::string(agent::kPathListPrefix) + "000000", kFile, list});
  return CraftArchive(entries);
}

// Serves a string in one piece.
class OneShotSource : public agent::ByteSource {
 public:
  explicit OneShotSource(std::string_view bytes) : bytes_(bytes) {}
  absl::StatusOr<std::string_view> Next() override {
    if (done_) return std::string_view();
    done_ = true;
    return bytes_;
  }

 private:
  std::string_view bytes_;
  bool done_ = false;
};

// Writes a small tree at `path` (files, a subdirectory, a symlink) with
// fixed times, the same each call: compare two with CompareTrees.
inline void MakeCanaryTree(const std::string& path) {
  WriteFile(path + "/keep.txt", "canary");
  WriteFile(path + "/sub/deeper.txt", "deeper canary");
  std::filesystem::create_symlink("keep.txt", path + "/link");
  const struct timespec times[2] = {{1600000000, 0}, {1600000000, 0}};
  for (const char* rel :
       {"/keep.txt", "/sub/deeper.txt", "/link", "/sub", ""}) {
    utimensat(AT_FDCWD, (path + rel).c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_AGENT_RESTORE_HOSTILE_ARCHIVES_H_
