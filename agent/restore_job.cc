#include "agent/restore_job.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "agent/archive_extractor.h"
#include "agent/volume_replacer.h"
#include "common/sha256.h"

namespace dxbackup::agent {
namespace {

// The Download stream as a ByteSource; checks order, length and digest.
class DownloadSource : public ByteSource {
 public:
  DownloadSource(v1::AgentService::StubInterface* stub,
                 const v1::RestoreCommand& command,
                 const std::function<void(uint64_t)>& on_progress)
      : command_(command), on_progress_(on_progress) {
    v1::DownloadRequest request;
    request.set_job_id(command.job_id());
    reader_ = stub->Download(&context_, request);
  }
  ~DownloadSource() override {
    if (!finished_) {
      context_.TryCancel();
      reader_->Finish();
    }
  }

  absl::StatusOr<std::string_view> Next() override {
    if (finished_) return std::string_view();
    if (!reader_->Read(&chunk_)) {
      finished_ = true;
      grpc::Status st = reader_->Finish();
      if (!st.ok()) {
        return absl::UnavailableError(
            absl::StrCat("download of job ", command_.job_id(),
                         " failed: ", st.error_message()));
      }
      const std::string digest = digest_.HexDigest();
      if (bytes_ != command_.bytes() || digest != command_.sha256()) {
        return absl::DataLossError(absl::StrCat(
            "restore stream of job ", command_.job_id(), " is corrupt: got ",
            bytes_, " bytes with SHA-256 ", digest, ", expected ",
            command_.bytes(), " bytes with ", command_.sha256()));
      }
      return std::string_view();
    }
    if (chunk_.sequence() != sequence_++) {
      return absl::DataLossError("restore stream chunks out of order");
    }
    digest_.Update(chunk_.data());
    bytes_ += chunk_.data().size();
    if (on_progress_) on_progress_(bytes_);
    return std::string_view(chunk_.data());
  }

 private:
  const v1::RestoreCommand& command_;
  const std::function<void(uint64_t)>& on_progress_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderInterface<v1::DownloadChunk>> reader_;
  v1::DownloadChunk chunk_;
  common::Sha256 digest_;
  uint64_t sequence_ = 0;
  uint64_t bytes_ = 0;
  bool finished_ = false;
};

}  // namespace

absl::StatusOr<uint64_t> RunRestoreJob(
    const v1::RestoreCommand& command, const v1::Volume& volume,
    v1::AgentService::StubInterface* stub,
    const std::function<void(uint64_t bytes)>& on_progress) {
  const std::string root =
      command.to_dir().empty() ? volume.path() : command.to_dir();
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create restore directory ", root, ": ", ec.message()));
  }
  DownloadSource source(stub, command, on_progress);
  ArchiveExtractor extractor(&source, root);
  const std::vector<std::string> paths(command.paths().begin(),
                                       command.paths().end());
  const bool replace = command.mode() == v1::RESTORE_REPLACE;
  extractor.set_only_paths(paths);
  extractor.set_record_names(replace);
  absl::Status s = extractor.Extract();
  if (!s.ok()) {
    return absl::Status(
        s.code(), absl::StrCat("restore of volume ", volume.name(), " into ",
                               root, ": ", s.message()));
  }
  // libarchive may stop before the end-of-stream marker; drain the rest so
  // the digest is checked over every byte.
  for (;;) {
    absl::StatusOr<std::string_view> rest = source.Next();
    if (!rest.ok()) return rest.status();
    if (rest->empty()) break;
  }
  // Only once the whole stream proved sound: remove what the backup lacks.
  if (replace) {
    absl::StatusOr<uint64_t> removed =
        RemoveEntriesNotIn(root, extractor.restored_names(), paths);
    extractor.RestoreDirectoryTimes();
    if (!removed.ok()) {
      return absl::Status(
          removed.status().code(),
          absl::StrCat("replace restore of volume ", volume.name(), ": ",
                       removed.status().message()));
    }
  }
  return extractor.files();
}

}  // namespace dxbackup::agent
