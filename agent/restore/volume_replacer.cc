#include "agent/restore/volume_replacer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "agent/restore/archive_extractor.h"

namespace dxbackup::agent {
namespace {

struct Pass {
  PathSet::Cursor* keep;
  const std::vector<std::string>& under;
  dev_t device;
  std::vector<std::string>* touched;
  PathSet::Cursor* only;
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
  // Whether `rel` goes: in scope, not kept, and (if limited) in `only`.
  absl::StatusOr<bool> Removes(const std::string& rel) const {
    if (!InScope(rel)) return false;
    absl::StatusOr<bool> kept = keep->Contains(rel);
    if (!kept.ok()) return kept.status();
    if (*kept) return false;
    return only == nullptr ? absl::StatusOr<bool>(true) : only->Contains(rel);
  }
};

absl::Status RemoveTree(int dirfd, const std::string& name,
                        const std::string& abs, dev_t device,
                        uint64_t* removed);

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

// Walks the directory `abs` (open as `fd`), removing what `pass` says, in
// byte order of the relative paths (the order of the sets' cursors): an
// entry sorts by its name, what is below a directory by "name/" - so "a",
// "a-b", "a.txt", "a/x", as VolumeWalker visits them.
absl::Status Visit(int fd, const std::string& abs, const std::string& rel,
                   Pass& pass) {
  std::optional<std::vector<std::string>> names = ListNames(fd);
  if (!names) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read ", abs, ": ", std::strerror(errno)));
  }
  struct Item {
    std::string key;
    size_t name;
    bool below;  // what is below the directory, not the entry itself
  };
  std::vector<Item> items;
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    items.push_back({name, i, false});
    struct stat st;
    if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode) && st.st_dev == pass.device) {
      items.push_back({name + "/", i, true});
    }
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.key < b.key; });
  std::vector<bool> removed(names->size());
  for (const Item& item : items) {
    const std::string& name = (*names)[item.name];
    const std::string child_rel = rel.empty() ? name : rel + "/" + name;
    const std::string child_abs = abs + "/" + name;
    if (!pass.Leads(child_rel) || removed[item.name]) continue;
    if (!item.below) {
      absl::StatusOr<bool> removes = pass.Removes(child_rel);
      if (!removes.ok()) return removes.status();
      if (!*removes) continue;
      absl::Status s =
          RemoveTree(fd, name, child_abs, pass.device, &pass.removed);
      if (!s.ok()) return s;
      removed[item.name] = true;
      if (pass.touched != nullptr) pass.touched->push_back(rel);
      continue;
    }
    UniqueFd child(openat(fd, name.c_str(),
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child.valid()) continue;
    absl::Status s = Visit(child.get(), child_abs, child_rel, pass);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// Removes `name` in `dirfd`, and everything below it if it is a directory
// on the file system `device`; counts what it removed in `removed`.
absl::Status RemoveTree(int dirfd, const std::string& name,
                        const std::string& abs, dev_t device,
                        uint64_t* removed) {
  struct stat st;
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return absl::OkStatus();
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != device) {
      return absl::FailedPreconditionError(absl::StrCat(
          abs, " is another file system mounted in the volume; not removed"));
    }
    UniqueFd fd(openat(dirfd, name.c_str(),
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot open ", abs, ": ", std::strerror(errno)));
    }
    for (const std::string& child :
         ListNames(fd.get()).value_or(std::vector<std::string>{})) {
      absl::Status s =
          RemoveTree(fd.get(), child, abs + "/" + child, device, removed);
      if (!s.ok()) return s;
    }
    if (unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot remove ", abs, ": ", std::strerror(errno)));
    }
  } else if (unlinkat(dirfd, name.c_str(), 0) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot remove ", abs, ": ", std::strerror(errno)));
  }
  ++*removed;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> RemoveTreeAt(int dirfd, const std::string& name,
                                      const std::string& shown_as) {
  struct stat st;
  if (fstat(dirfd, &st) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot remove ", shown_as, ": ", std::strerror(errno)));
  }
  uint64_t removed = 0;
  absl::Status s = RemoveTree(dirfd, name, shown_as, st.st_dev, &removed);
  if (!s.ok()) return s;
  return removed;
}

absl::StatusOr<uint64_t> RemoveEntriesNotIn(
    const RestoreRoot& root, PathSet::Cursor* keep,
    const std::vector<std::string>& under, std::vector<std::string>* touched,
    PathSet::Cursor* only) {
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
