#include "agent/backup/base_index_stream.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"

namespace dxbackup::agent {

BaseIndexStream::BaseIndexStream(v1::AgentService::StubInterface* stub,
                                 const std::string& job_id)
    : job_id_(job_id) {
  v1::BaseIndexRequest request;
  request.set_job_id(job_id);
  reader_ = stub->BaseIndex(&context_, request);
}

BaseIndexStream::~BaseIndexStream() {
  if (!finished_) {
    context_.TryCancel();
    reader_->Finish();
  }
}

absl::StatusOr<bool> BaseIndexStream::Next(v1::FileEntry* entry) {
  while (next_ >= chunk_.entries_size()) {
    if (finished_) return false;
    chunk_.Clear();
    next_ = 0;
    if (!reader_->Read(&chunk_)) {
      finished_ = true;
      grpc::Status st = reader_->Finish();
      if (!st.ok()) {
        return absl::Status(common::FromGrpcStatus(st).code(),
                            absl::StrCat("reading the base index of job ",
                                         job_id_, ": ", st.error_message()));
      }
      return false;
    }
  }
  entry->Swap(chunk_.mutable_entries(next_++));
  return true;
}

}  // namespace dxbackup::agent
