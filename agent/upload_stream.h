// UploadStream is the ByteSink that carries one backup job's archive to the
// scheduler over AgentService.Upload: chunks of at most kChunkBytes, in
// sequence, with a running SHA-256 that the trailer carries. gRPC's flow
// control blocks Write when the scheduler cannot take more.
//
//   UploadStream up(stub, job_id, limit, on_progress);
//   tar writes into &up ...
//   absl::StatusOr<v1::UploadResult> r = up.Finish(files, fix_level);
//
// Not thread-safe. Cancel() may be called from another thread to abort.
#ifndef DXBACKUP_AGENT_UPLOAD_STREAM_H_
#define DXBACKUP_AGENT_UPLOAD_STREAM_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/tar_stream_writer.h"
#include "common/sha256.h"
#include "dxbackup/v1/agent.grpc.pb.h"

namespace dxbackup::agent {

constexpr size_t kChunkBytes = 1 << 20;
// Index entries held before they are sent without waiting for data.
constexpr size_t kMaxPendingEntries = 2048;
constexpr size_t kMaxPendingEntryBytes = 1 << 20;

class UploadStream : public ByteSink, public EntryObserver {
 public:
  // Called after each chunk with the bytes sent so far.
  using ProgressFn = std::function<void(uint64_t bytes)>;

  // `stub` must outlive the stream. `limit_bytes_per_second` 0 means
  // unlimited.
  UploadStream(v1::AgentService::StubInterface* stub, std::string job_id,
               uint64_t limit_bytes_per_second, ProgressFn on_progress);
  ~UploadStream() override;

  absl::Status Write(const void* data, size_t size) override;
  // Queues an index entry; it travels with the next chunk.
  absl::Status OnEntry(const v1::FileEntry& entry) override;
  // Sends what is buffered and the trailer, and waits for the scheduler's
  // verdict: OK only when the artifact is stored and its digest matched.
  absl::StatusOr<v1::UploadResult> Finish(uint64_t files,
                                          const std::string& fix_level);
  void Cancel();

 private:
  absl::Status SendBuffered(const v1::UploadTrailer* trailer);
  void Throttle();

  std::string job_id_;
  uint64_t limit_;
  ProgressFn on_progress_;
  grpc::ClientContext context_;
  v1::UploadResult result_;
  std::unique_ptr<grpc::ClientWriterInterface<v1::UploadChunk>> writer_;
  common::Sha256 digest_;
  std::string buffer_;
  std::vector<v1::FileEntry> entries_;
  size_t entries_bytes_ = 0;
  uint64_t sequence_ = 0;
  uint64_t bytes_ = 0;
  std::chrono::steady_clock::time_point started_;
  bool broken_ = false;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_UPLOAD_STREAM_H_
