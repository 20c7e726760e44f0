#include "agent/upload_stream.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"

namespace dxbackup::agent {

UploadStream::UploadStream(v1::AgentService::StubInterface* stub,
                           std::string job_id, uint64_t limit_bytes_per_second,
                           ProgressFn on_progress)
    : job_id_(std::move(job_id)),
      limit_(limit_bytes_per_second),
      on_progress_(std::move(on_progress)),
      started_(std::chrono::steady_clock::now()) {
  writer_ = stub->Upload(&context_, &result_);
  buffer_.reserve(kChunkBytes);
}

UploadStream::~UploadStream() {
  if (writer_ != nullptr && !broken_) Cancel();
}

void UploadStream::Cancel() { context_.TryCancel(); }

absl::Status UploadStream::Write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const size_t take = std::min(size, kChunkBytes - buffer_.size());
    buffer_.append(p, take);
    digest_.Update(p, take);
    p += take;
    size -= take;
    if (buffer_.size() == kChunkBytes) {
      absl::Status s = SendBuffered(nullptr);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status UploadStream::OnEntry(const v1::FileEntry& entry) {
  entries_bytes_ += entry.path().size() + entry.link().size() + 32;
  entries_.push_back(entry);
  // Many small files compress into few chunks: send the index on its own
  // rather than hold it all (or overflow a message).
  if (entries_.size() >= kMaxPendingEntries ||
      entries_bytes_ >= kMaxPendingEntryBytes) {
    return SendBuffered(nullptr);
  }
  return absl::OkStatus();
}

void UploadStream::Throttle() {
  if (limit_ == 0) return;
  const auto due =
      started_ + std::chrono::microseconds(bytes_ * 1000000 / limit_);
  std::this_thread::sleep_until(due);
}

absl::Status UploadStream::SendBuffered(const v1::UploadTrailer* trailer) {
  if (broken_) return absl::UnavailableError("upload stream already broken");
  v1::UploadChunk chunk;
  chunk.set_job_id(job_id_);
  chunk.set_sequence(sequence_++);
  chunk.set_data(std::move(buffer_));  // no copy of the chunk
  for (v1::FileEntry& e : entries_) *chunk.add_entries() = std::move(e);
  entries_.clear();
  entries_bytes_ = 0;
  if (trailer != nullptr) *chunk.mutable_trailer() = *trailer;
  bytes_ += chunk.data().size();
  buffer_.clear();
  buffer_.reserve(kChunkBytes);
  Throttle();
  if (!writer_->Write(chunk)) {
    broken_ = true;
    grpc::Status st = writer_->Finish();
    return absl::UnavailableError(absl::StrCat(
        "upload of job ", job_id_, " cut off by the scheduler: ",
        st.error_message().empty() ? "stream closed" : st.error_message()));
  }
  if (on_progress_) on_progress_(bytes_);
  return absl::OkStatus();
}

absl::StatusOr<v1::UploadResult> UploadStream::Finish(
    uint64_t files, const std::string& fix_level) {
  v1::UploadTrailer trailer;
  trailer.set_bytes(bytes_ + buffer_.size());
  trailer.set_files(files);
  trailer.set_sha256(digest_.HexDigest());
  trailer.set_fix_level(fix_level);
  absl::Status s = SendBuffered(&trailer);
  if (!s.ok()) return s;
  writer_->WritesDone();
  grpc::Status st = writer_->Finish();
  broken_ = true;  // finished: nothing left to cancel
  if (!st.ok()) {
    return absl::Status(common::FromGrpcStatus(st).code(),
                        absl::StrCat("scheduler refused upload of job ",
                                     job_id_, ": ", st.error_message()));
  }
  return result_;
}

}  // namespace dxbackup::agent
