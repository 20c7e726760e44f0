#include "agent/restore/restore_root.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dxbackup::agent {

absl::StatusOr<RestoreRoot> RestoreRoot::Open(const std::string& path) {
  UniqueFd fd(
      open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    struct stat st;
    if (error == ELOOP || (error == ENOTDIR && lstat(path.c_str(), &st) == 0 &&
                           S_ISLNK(st.st_mode))) {
      return absl::FailedPreconditionError(absl::StrCat(
          "restore root ", path,
          " is a symbolic link; a restore never writes through one: remove "
          "the link or restore into the directory it points to"));
    }
    if (error == ENOTDIR) {
      return absl::FailedPreconditionError(
          absl::StrCat("restore root ", path, " is not a directory"));
    }
    return absl::Status(error == ENOENT ? absl::StatusCode::kNotFound
                                        : absl::StatusCode::kPermissionDenied,
                        absl::StrCat("cannot open restore root ", path, ": ",
                                     std::strerror(error)));
  }
  RestoreRoot root(std::move(fd), path);
  // Everything libarchive writes goes through the pinned name: it must
  // reach the very directory held.
  struct stat held, pinned;
  if (fstat(root.fd(), &held) != 0 ||
      stat(root.PinnedName(".").c_str(), &pinned) != 0 ||
      held.st_dev != pinned.st_dev || held.st_ino != pinned.st_ino) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot restore into ", path, ": ", root.PinnedName("."),
                     " does not lead to it (is /proc mounted?)"));
  }
  return root;
}

std::string RestoreRoot::PinnedName(absl::string_view relative) const {
  std::string name = absl::StrCat("/proc/self/fd/", fd());
  if (!relative.empty() && relative != ".")
    absl::StrAppend(&name, "/", relative);
  return name;
}

absl::StatusOr<UniqueFd> RestoreRoot::OpenDirectory(
    absl::string_view relative) const {
  UniqueFd dir(fcntl(fd(), F_DUPFD_CLOEXEC, 0));
  if (!dir.valid()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot duplicate a descriptor: ", std::strerror(errno)));
  }
  if (relative.empty() || relative == ".") return dir;
  for (absl::string_view part :
       absl::StrSplit(relative, '/', absl::SkipEmpty())) {
    const std::string name(part);
    UniqueFd next(openat(dir.get(), name.c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      const int error = errno;
      const std::string so_far(
          relative.substr(0, part.data() + part.size() - relative.data()));
      struct stat st;
      if (error == ELOOP ||
          (fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISLNK(st.st_mode))) {
        return absl::FailedPreconditionError(
            absl::StrCat(so_far, " is a symbolic link"));
      }
      return absl::NotFoundError(
          absl::StrCat(so_far, ": ", std::strerror(error)));
    }
    dir = std::move(next);
  }
  return dir;
}

}  // namespace dxbackup::agent
