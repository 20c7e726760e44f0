// DownloadSource reads one part of a restore job's stored stream
// (AgentService.Download) as a ByteSource, checking the chunks' order and,
// at the end, the part's length and SHA-256 against what the job's command
// said: a mismatch is DataLoss, a broken stream Unavailable.
//
//   DownloadSource download(stub, job_id, {0, sha256, bytes}, progress);
//   ReadAheadSource source(&download, [&] { download.Cancel(); });
//
// Next() from one thread; Cancel() from any. `job_id`, `part` and
// `on_progress` must outlive the source.
#ifndef DXBACKUP_AGENT_RESTORE_DOWNLOAD_SOURCE_H_
#define DXBACKUP_AGENT_RESTORE_DOWNLOAD_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "agent/restore/archive_extractor.h"
#include "common/sha256.h"
#include "dxbackup/v1/agent.grpc.pb.h"

namespace dxbackup::agent {

// One part of a restore: its index and the expected length and digest.
struct DownloadPart {
  uint32_t index;
  std::string sha256;
  uint64_t bytes;
};

class DownloadSource : public ByteSource {
 public:
  // `on_progress` (may be empty) gets the part's bytes so far after each
  // chunk.
  DownloadSource(v1::AgentService::StubInterface* stub,
                 const std::string& job_id, const DownloadPart& part,
                 const std::function<void(uint64_t)>& on_progress);
  ~DownloadSource() override;

  // Makes a Read() waiting for the scheduler return now (the part then
  // fails as cancelled).
  void Cancel() { context_.TryCancel(); }

  absl::StatusOr<std::string_view> Next() override;

 private:
  const std::string& job_id_;
  const DownloadPart& part_;
  const std::function<void(uint64_t)>& on_progress_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderInterface<v1::DownloadChunk>> reader_;
  v1::DownloadChunk chunk_;
  common::Sha256 digest_;
  uint64_t sequence_ = 0;
  uint64_t bytes_ = 0;
  bool finished_ = false;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_RESTORE_DOWNLOAD_SOURCE_H_
