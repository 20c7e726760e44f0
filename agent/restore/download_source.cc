#include "agent/restore/download_source.h"

#include "absl/strings/str_cat.h"

namespace dxbackup::agent {

DownloadSource::DownloadSource(v1::AgentService::StubInterface* stub,
                               const std::string& job_id,
                               const DownloadPart& part,
                               const std::function<void(uint64_t)>& on_progress)
    : job_id_(job_id), part_(part), on_progress_(on_progress) {
  v1::DownloadRequest request;
  request.set_job_id(job_id);
  request.set_part(part.index);
  reader_ = stub->Download(&context_, request);
}

DownloadSource::~DownloadSource() {
  if (!finished_) {
    context_.TryCancel();
    reader_->Finish();
  }
}

absl::StatusOr<std::string_view> DownloadSource::Next() {
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

}  // namespace dxbackup::agent
