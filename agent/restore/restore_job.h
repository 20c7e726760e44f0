// RunRestoreJob downloads the artifact of a restore job and extracts it as
// it arrives, into the command's to_dir (created if missing) or over the
// volume itself, only the command's paths if it names any. The stream's
// SHA-256 and length are checked against the command's; a mismatch is an
// error. In replace mode, once the stream is proved whole, entries the
// backup lacks are removed (under the restored paths only).
#ifndef DXBACKUP_AGENT_RESTORE_RESTORE_JOB_H_
#define DXBACKUP_AGENT_RESTORE_RESTORE_JOB_H_

#include <functional>

#include "absl/status/statusor.h"
#include "dxbackup/v1/agent.grpc.pb.h"

namespace dxbackup::agent {

// Returns the number of entries restored. `on_progress`, if set, is called
// with the bytes downloaded so far after each chunk, from the thread that
// downloads (one at a time, never concurrently).
absl::StatusOr<uint64_t> RunRestoreJob(
    const v1::RestoreCommand& command, const v1::Volume& volume,
    v1::AgentService::StubInterface* stub,
    const std::function<void(uint64_t bytes)>& on_progress = nullptr);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_RESTORE_RESTORE_JOB_H_
