#include "agent/restore_job.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/archive_extractor.h"
#include "agent/volume_replacer.h"
#include "common/sha256.h"

namespace dxbackup::agent {
namespace {

// One part of a restore: the artifact's expected length and digest.
struct Part {
  uint32_t index;
  std::string sha256;
  uint64_t bytes;
};

// The Download stream of one part as a ByteSource; checks order, length
// and digest.
class DownloadSource : public ByteSource {
 public:
  DownloadSource(v1::AgentService::StubInterface* stub,
                 const std::string& job_id, const Part& part,
                 const std::function<void(uint64_t)>& on_progress)
      : job_id_(job_id), part_(part), on_progress_(on_progress) {
    v1::DownloadRequest request;
    request.set_job_id(job_id);
    request.set_part(part.index);
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
            absl::StrCat("download of job ", job_id_, " part ", part_.index,
                         " failed: ", st.error_message()));
      }
      const std::string digest = digest_.HexDigest();
      if (bytes_ != part_.bytes || digest != part_.sha256) {
        return absl::DataLossError(absl::StrCat(
            "restore stream of job ", job_id_, " part ", part_.index,
            " is corrupt: got ", bytes_, " bytes with SHA-256 ", digest,
            ", expected ", part_.bytes, " bytes with ", part_.sha256));
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
  const std::string& job_id_;
  const Part& part_;
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
  std::vector<Part> parts;
  for (const v1::RestorePart& p : command.base_parts()) {
    parts.push_back(
        {static_cast<uint32_t>(parts.size()), p.sha256(), p.bytes()});
  }
  parts.push_back(
      {static_cast<uint32_t>(parts.size()), command.sha256(), command.bytes()});
  const bool chain = parts.size() > 1;
  const std::vector<std::string> paths(command.paths().begin(),
                                       command.paths().end());
  const bool replace = command.mode() == v1::RESTORE_REPLACE;

  // Each part in order, oldest first, each streamed once. A chain's last
  // part lists every path of the restored moment.
  std::unordered_set<std::string> written;  // by any part
  std::unordered_set<std::string> moment;   // the last part's path list
  std::unique_ptr<ArchiveExtractor> last;
  uint64_t files = 0, done = 0;
  for (const Part& part : parts) {
    const bool is_last = part.index + 1 == parts.size();
    const std::function<void(uint64_t)> progress = [&](uint64_t bytes) {
      if (on_progress) on_progress(done + bytes);
    };
    DownloadSource source(stub, command.job_id(), part, progress);
    auto extractor = std::make_unique<ArchiveExtractor>(&source, root);
    extractor->set_only_paths(paths);
    extractor->set_record_names(replace || chain);
    extractor->set_keep_setid(command.keep_setid());
    if (chain && is_last) extractor->set_path_list_sink(&moment);
    absl::Status s = extractor->Extract();
    if (!s.ok()) return error(s);
    // libarchive may stop before the end-of-stream marker; drain the rest
    // so the digest is checked over every byte.
    for (;;) {
      absl::StatusOr<std::string_view> rest = source.Next();
      if (!rest.ok()) return error(rest.status());
      if (rest->empty()) break;
    }
    if (chain && is_last && !extractor->saw_path_list()) {
      return error(absl::DataLossError(
          "the last artifact of the chain has no path list; it is not an "
          "incremental"));
    }
    files += extractor->files();
    done += part.bytes;
    if (chain) {
      for (const std::string& name : extractor->restored_names()) {
        written.insert(name);
      }
    }
    last = std::move(extractor);
  }
  // Only once every stream proved sound: remove what the moment lacks —
  // anything in the volume (replace), or what the chain itself wrote
  // (overlay; other files stay).
  if (replace || chain) {
    const std::unordered_set<std::string>& keep =
        chain ? moment : last->restored_names();
    absl::StatusOr<uint64_t> removed = RemoveEntriesNotIn(
        root, keep, paths, nullptr, replace ? nullptr : &written);
    last->RestoreDirectoryTimes();
    if (!removed.ok()) return error(removed.status());
  }
  return files;
}

}  // namespace dxbackup::agent
