#include "agent/volume_replacer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "agent/archive_extractor.h"

namespace dxbackup::agent {
namespace {

struct Pass {
  const std::unordered_set<std::string>& keep;
  const std::vector<std::string>& under;
  dev_t device;
  std::vector<std::string>* touched;
  const std::unordered_set<std::string>* only;
  uint64_t removed = 0;

  bool InScope(const std::string& rel) const {
    if (under.empty()) return true;
    for (const std::string& u : under) {
      if (IsAtOrBelow(rel, u)) return true;
    }
    return false;
  }
  // Whether `rel` lies on the way to a path in scope (so must be walked).
  bool Leads(const std::string& rel) const {
    if (under.empty()) return true;
    for (const std::string& u : under) {
      if (IsAtOrBelow(u, rel) || IsAtOrBelow(rel, u)) return true;
    }
    return false;
  }
};

absl::Status RemoveTree(int dirfd, const std::string& name,
                        const std::string& abs, Pass& pass);

// The names in the directory open as `fd`, or nullopt if unreadable.
std::optional<std::vector<std::string>> ListNames(int fd) {
  DIR* dir = fdopendir(dup(fd));
  if (dir == nullptr) return std::nullopt;
  std::vector<std::string> names;
  while (struct dirent* d = readdir(dir)) {
    if (std::strcmp(d->d_name, ".") && std::strcmp(d->d_name, "..")) {
      names.emplace_back(d->d_name);
    }
  }
  closedir(dir);
  return names;
}

// Walks the directory `abs` (open as `fd`), removing what `pass` says.
absl::Status Visit(int fd, const std::string& abs, const std::string& rel,
                   Pass& pass) {
  std::optional<std::vector<std::string>> names = ListNames(fd);
  if (!names) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read ", abs, ": ", std::strerror(errno)));
  }
  for (const std::string& name : *names) {
    const std::string child_rel = rel.empty() ? name : rel + "/" + name;
    const std::string child_abs = abs + "/" + name;
    if (!pass.Leads(child_rel)) continue;
    struct stat st;
    if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (pass.InScope(child_rel) && pass.keep.count(child_rel) == 0 &&
        (pass.only == nullptr || pass.only->count(child_rel) != 0)) {
      absl::Status s = RemoveTree(fd, name, child_abs, pass);
      if (!s.ok()) return s;
      if (pass.touched != nullptr) pass.touched->push_back(rel);
      continue;
    }
    if (S_ISDIR(st.st_mode) && st.st_dev == pass.device) {
      int child = openat(fd, name.c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) continue;
      absl::Status s = Visit(child, child_abs, child_rel, pass);
      close(child);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Removes `name` in `dirfd`, and everything below it if it is a directory
// on the same file system.
absl::Status RemoveTree(int dirfd, const std::string& name,
                        const std::string& abs, Pass& pass) {
  struct stat st;
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return absl::OkStatus();
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != pass.device) {
      return absl::FailedPreconditionError(absl::StrCat(
          abs, " is another file system mounted in the volume; not removed"));
    }
    int fd = openat(dirfd, name.c_str(),
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot open ", abs, ": ", std::strerror(errno)));
    }
    for (const std::string& child :
         ListNames(fd).value_or(std::vector<std::string>{})) {
      absl::Status s = RemoveTree(fd, child, abs + "/" + child, pass);
      if (!s.ok()) {
        close(fd);
        return s;
      }
    }
    close(fd);
    if (unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot remove ", abs, ": ", std::strerror(errno)));
    }
  } else if (unlinkat(dirfd, name.c_str(), 0) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot remove ", abs, ": ", std::strerror(errno)));
  }
  ++pass.removed;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> RemoveEntriesNotIn(
    const RestoreRoot& root, const std::unordered_set<std::string>& keep,
    const std::vector<std::string>& under, std::vector<std::string>* touched,
    const std::unordered_set<std::string>* only) {
  std::vector<std::string> clean;
  for (const std::string& u : under) {
    absl::StatusOr<std::string> c = SafeRelativeName(u);
    if (!c.ok()) return c.status();
    clean.push_back(*c);
  }
  absl::StatusOr<UniqueFd> fd = root.OpenDirectory(".");
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (fstat(fd->get(), &st) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("restore root ", root.path(), ": ", std::strerror(errno)));
  }
  Pass pass{keep, clean, st.st_dev, touched, only};
  absl::Status s = Visit(fd->get(), root.path(), "", pass);
  if (!s.ok()) return s;
  return pass.removed;
}

}  // namespace dxbackup::agent
