// RunBackupJob captures one volume for one job: walk, pax tar, compress and
// upload, all streaming. `stub` serves the base index; the upload takes a
// stub of its own from `new_upload_stub` for each attempt. Returns the
// scheduler's receipt once the artifact is stored, or an error naming the
// volume and what failed.
#ifndef DXBACKUP_AGENT_BACKUP_BACKUP_JOB_H_
#define DXBACKUP_AGENT_BACKUP_BACKUP_JOB_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/backup/upload_stream.h"
#include "dxbackup/v1/agent.grpc.pb.h"

namespace dxbackup::agent {

struct BackupJobSettings {
  std::vector<std::string> excludes;  // the agent's own, added to the job's
  UploadStream::Options upload;       // bandwidth limit, retries
};

absl::StatusOr<v1::UploadResult> RunBackupJob(
    const v1::BackupCommand& command, const v1::Volume& volume,
    const BackupJobSettings& settings, v1::AgentService::StubInterface* stub,
    const UploadStream::StubFactory& new_upload_stub,
    const UploadStream::ProgressFn& on_progress, uint64_t* files_out);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_BACKUP_BACKUP_JOB_H_
