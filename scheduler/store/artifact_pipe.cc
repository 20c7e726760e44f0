#include "scheduler/store/artifact_pipe.h"

namespace dxbackup::scheduler {

absl::StatusOr<common::ProcessResult> RunProcessReading(
    common::ProcessSpec spec, ArtifactReader& input) {
  spec.stream_stdin = true;
  spec.stream_stdout = false;
  absl::StatusOr<std::unique_ptr<common::Subprocess>> child =
      common::Subprocess::Start(spec);
  if (!child.ok()) return child.status();
  absl::Status write_error;
  absl::Status fed =
      ForEachChunk(input, [&](const char* data, size_t size) {
        write_error = (*child)->WriteStdin(data, size);
        return write_error;
      });
  (*child)->CloseStdin();
  absl::StatusOr<int> exit_code = (*child)->Wait();
  if (!exit_code.ok()) return exit_code.status();
  if (!fed.ok() && write_error.ok()) return fed;  // the store failed
  return common::ProcessResult{*exit_code, (*child)->stdout_text(),
                               (*child)->stderr_text()};
}

}  // namespace dxbackup::scheduler
