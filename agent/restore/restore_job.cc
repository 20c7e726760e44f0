#include "agent/restore/restore_job.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/restore/archive_extractor.h"
#include "agent/restore/download_source.h"
#include "agent/restore/read_ahead_source.h"
#include "agent/restore/restore_root.h"
#include "agent/restore/volume_restore.h"

namespace dxbackup::agent {
absl::StatusOr<uint64_t> RunRestoreJob(
    const v1::RestoreCommand& command, const v1::Volume& volume,
    v1::AgentService::StubInterface* stub,
    const std::function<void(uint64_t bytes)>& on_progress) {
  const std::string root =
      command.to_dir().empty() ? volume.path() : command.to_dir();
  auto error = [&](const absl::Status& s) {
    return absl::Status(
        s.code(), absl::StrCat("restore of volume ", volume.name(), " into ",
                               root, ": ", s.message()));
  };
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create restore directory ", root, ": ", ec.message()));
  }
  // The root is opened once; every part and the removal work through that
  // descriptor. The volume's configured path may be a link (DX's
  // wp_profile is one): it is resolved here, once, as backups resolve it.
  // A --to directory is never followed.
  std::string open_path = root;
  if (command.to_dir().empty()) {
    char resolved[PATH_MAX];
    if (realpath(root.c_str(), resolved) == nullptr) {
      return error(absl::NotFoundError(std::strerror(errno)));
    }
    open_path = resolved;
  }
  absl::StatusOr<RestoreRoot> opened = RestoreRoot::Open(open_path);
  if (!opened.ok()) return error(opened.status());
  std::vector<DownloadPart> parts;
  for (const v1::RestorePart& p : command.base_parts()) {
    parts.push_back(
        {static_cast<uint32_t>(parts.size()), p.sha256(), p.bytes()});
  }
  parts.push_back(
      {static_cast<uint32_t>(parts.size()), command.sha256(), command.bytes()});
  VolumeRestoreOptions options;
  options.paths.assign(command.paths().begin(), command.paths().end());
  options.replace = command.mode() == v1::RESTORE_REPLACE;
  options.keep_setid = command.keep_setid();
  VolumeRestore restore(&*opened, std::move(options), parts.size());

  // Each part in order, oldest first, each streamed once.
  uint64_t done = 0;
  for (const DownloadPart& part : parts) {
    const std::function<void(uint64_t)> progress = [&](uint64_t bytes) {
      if (on_progress) on_progress(done + bytes);
    };
    DownloadSource download(stub, command.job_id(), part, progress);
    // Downloading, digest and zstd on a thread beside the extraction.
    ReadAheadSource source(&download, [&download] { download.Cancel(); });
    absl::Status s = restore.ExtractPart(&source);
    if (!s.ok()) return error(s);
    // libarchive may stop before the end-of-stream marker; drain the rest
    // so the digest is checked over every byte.
    for (;;) {
      absl::StatusOr<std::string_view> rest = source.Next();
      if (!rest.ok()) return error(rest.status());
      if (rest->empty()) break;
    }
    done += part.bytes;
  }
  // Only once every stream proved sound.
  absl::StatusOr<uint64_t> files = restore.Finish();
  if (!files.ok()) return error(files.status());
  return *files;
}

}  // namespace dxbackup::agent
