#include "agent/backup/backup_job.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "agent/backup/base_index_stream.h"
#include "agent/backup/change_detector.h"
#include "agent/backup/fix_level.h"
#include "agent/backup/tar_stream_writer.h"
#include "agent/backup/volume_walker.h"

namespace dxbackup::agent {

absl::StatusOr<v1::UploadResult> RunBackupJob(
    const v1::BackupCommand& command, const v1::Volume& volume,
    const BackupJobSettings& settings, v1::AgentService::StubInterface* stub,
    const UploadStream::StubFactory& new_upload_stub,
    const UploadStream::ProgressFn& on_progress, uint64_t* files_out) {
  std::vector<std::string> excludes = settings.excludes;
  for (const std::string& glob : command.options().excludes()) {
    excludes.push_back(glob);
  }
  UploadStream upload(new_upload_stub, command.job_id(), settings.upload,
                      on_progress);
  TarStreamWriter tar(&upload, command.options(), &upload);
  std::unique_ptr<BaseIndexStream> base;
  std::unique_ptr<ChangeDetector> changes;
  if (command.incremental()) {
    base = std::make_unique<BaseIndexStream>(stub, command.job_id());
    changes = std::make_unique<ChangeDetector>(base.get());
    tar.set_incremental(true);
  }
  absl::Status s = tar.Open();
  VolumeWalker walker(volume.path(), excludes);
  if (s.ok()) {
    s = walker.Walk([&](const WalkEntry& e) -> absl::Status {
      if (changes == nullptr) return tar.Add(e);
      absl::StatusOr<bool> changed = changes->Changed(e);
      if (!changed.ok()) return changed.status();
      return *changed ? tar.Add(e) : tar.AddUnchanged(e);
    });
  }
  if (s.ok()) s = tar.Close();
  if (!s.ok()) {
    upload.Cancel();
    return absl::Status(s.code(),
                        absl::StrCat("backup of volume ", volume.name(), " (",
                                     volume.path(), "): ", s.message()));
  }
  *files_out = tar.files();
  return upload.Finish(tar.files(), FindFixLevel(volume.path()));
}

}  // namespace dxbackup::agent
