// BaseIndexStream reads an incremental backup job's base index from the
// scheduler (AgentService.BaseIndex), one message of entries at a time.
//
// Not thread-safe.
#ifndef DXBACKUP_AGENT_BACKUP_BASE_INDEX_STREAM_H_
#define DXBACKUP_AGENT_BACKUP_BASE_INDEX_STREAM_H_

#include <memory>
#include <string>

#include "agent/backup/change_detector.h"
#include "dxbackup/v1/agent.grpc.pb.h"

namespace dxbackup::agent {

class BaseIndexStream : public BaseIndexSource {
 public:
  // `stub` must outlive the stream.
  BaseIndexStream(v1::AgentService::StubInterface* stub,
                  const std::string& job_id);
  ~BaseIndexStream() override;

  absl::StatusOr<bool> Next(v1::FileEntry* entry) override;

 private:
  std::string job_id_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderInterface<v1::BaseIndexChunk>> reader_;
  v1::BaseIndexChunk chunk_;
  int next_ = 0;
  bool finished_ = false;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_BACKUP_BASE_INDEX_STREAM_H_
