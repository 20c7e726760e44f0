#include "agent/backup/volume_walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace dxbackup::agent {
namespace {

// A directory is opened without following a link: one swapped in for it
// since it was statted is refused, not walked.
constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

absl::Status CannotRead(const std::string& path) {
  return absl::PermissionDeniedError(
      absl::StrCat("cannot read directory ", path, ": ", std::strerror(errno)));
}

}  // namespace

VolumeWalker::VolumeWalker(std::string root, std::vector<std::string> excludes)
    : root_(std::move(root)), excludes_(std::move(excludes)) {}

bool VolumeWalker::IsExcluded(const std::string& relative_path) const {
  if (relative_path == ".") return false;
  const size_t slash = relative_path.rfind('/');
  const std::string base = slash == std::string::npos
                               ? relative_path
                               : relative_path.substr(slash + 1);
  for (const std::string& glob : excludes_) {
    const bool whole_path = glob.find('/') != std::string::npos;
    const std::string& subject = whole_path ? relative_path : base;
    if (fnmatch(glob.c_str(), subject.c_str(), 0) == 0) return true;
  }
  return false;
}

absl::Status VolumeWalker::Walk(const Visitor& visit) {
  char resolved[PATH_MAX];
  if (realpath(root_.c_str(), resolved) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("volume ", root_, ": ", std::strerror(errno)));
  }
  WalkEntry root;
  root.absolute_path = resolved;
  root.relative_path = ".";
  root.name = resolved;
  root.dir_fd = AT_FDCWD;
  if (lstat(resolved, &root.st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("volume ", root_, ": ", std::strerror(errno)));
  }
  if (!S_ISDIR(root.st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("volume ", root_, " is not a directory"));
  }
  absl::Status s = visit(root);
  if (!s.ok()) return s;
  const int fd = open(resolved, kDirectoryFlags);
  if (fd < 0) return CannotRead(root.absolute_path);
  return WalkDirectory(fd, root.absolute_path, "", root.st.st_dev, visit);
}

absl::Status VolumeWalker::WalkDirectory(int dir_fd, const std::string& abs,
                                         const std::string& rel, dev_t device,
                                         const Visitor& visit) {
  DIR* dir = fdopendir(dir_fd);
  if (dir == nullptr) {
    close(dir_fd);
    return CannotRead(abs);
  }
  // Closes the directory (and dir_fd) however this returns.
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, closedir);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* d = readdir(dir)) {
    if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) {
      continue;
    }
    names.emplace_back(d->d_name);
  }
  if (errno != 0) {
    return absl::DataLossError(absl::StrCat("cannot list directory ", abs, ": ",
                                            std::strerror(errno)));
  }
  // Byte order of the whole relative path: a directory's own entry sorts
  // by its name, its contents by "name/" — so "a", "a-b", "a.txt", "a/x".
  struct Item {
    std::string key;
    size_t child;
    bool descend;
  };
  std::vector<WalkEntry> children;
  std::vector<Item> items;
  children.reserve(names.size());
  for (std::string& name : names) {
    WalkEntry entry;
    entry.relative_path = rel.empty() ? name : absl::StrCat(rel, "/", name);
    if (IsExcluded(entry.relative_path)) continue;
    if (fstatat(dir_fd, name.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed while we walked
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot stat ", abs, "/", name, ": ", std::strerror(errno)));
    }
    entry.absolute_path = absl::StrCat(abs, "/", name);
    entry.dir_fd = dir_fd;
    if (S_ISDIR(entry.st.st_mode) && entry.st.st_dev == device) {
      items.push_back({name + "/", children.size(), true});
    }
    items.push_back({name, children.size(), false});
    entry.name = std::move(name);
    children.push_back(std::move(entry));
  }
  names.clear();
  names.shrink_to_fit();
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.key < b.key; });
  for (const Item& item : items) {
    const WalkEntry& entry = children[item.child];
    if (!item.descend) {
      absl::Status s = visit(entry);
      if (!s.ok()) return s;
      continue;
    }
    const int fd = openat(dir_fd, entry.name.c_str(), kDirectoryFlags);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // removed while we walked
      return CannotRead(entry.absolute_path);
    }
    absl::Status s = WalkDirectory(fd, entry.absolute_path, entry.relative_path,
                                   device, visit);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::agent
