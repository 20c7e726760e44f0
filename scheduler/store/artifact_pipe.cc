#include "scheduler/store/artifact_pipe.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/byte_sink.h"
#include "common/process_watch.h"
#include "common/time_source.h"
#include "common/zstd_sink.h"

namespace dxbackup::scheduler {

absl::Status WriteZstd(const std::string& bytes, int zstd_level,
                       PendingArtifact* out) {
  PendingArtifactSink sink(out);
  common::ZstdSink zstd(&sink, zstd_level, /*workers=*/0);
  if (absl::Status s = zstd.Write(bytes.data(), bytes.size()); !s.ok()) {
    return s;
  }
  return zstd.Finish();
}

absl::StatusOr<common::ProcessResult> RunProcessReading(
    common::ProcessSpec spec, ArtifactReader& input, int timeout_seconds) {
  spec.stream_stdin = true;
  spec.stream_stdout = false;
  absl::StatusOr<std::unique_ptr<common::Subprocess>> child =
      common::Subprocess::Start(spec);
  if (!child.ok()) return child.status();
  common::ProcessWatch watch(child->get(), timeout_seconds, common::RealTime());
  absl::Status write_error;
  absl::Status fed = ForEachChunk(input, [&](const char* data, size_t size) {
    write_error = (*child)->WriteStdin(data, size);
    return write_error;
  });
  (*child)->CloseStdin();
  absl::StatusOr<int> exit_code = watch.Wait();
  if (!exit_code.ok()) return exit_code.status();
  if (!fed.ok() && write_error.ok()) return fed;  // the store failed
  return common::ProcessResult{*exit_code, (*child)->stdout_text(),
                               (*child)->stderr_text(), watch.killed()};
}

absl::StatusOr<ProcessOutput> RunProcessInto(common::ProcessSpec spec,
                                             int zstd_level,
                                             PendingArtifact* out,
                                             int timeout_seconds) {
  spec.stream_stdout = true;
  auto proc = common::Subprocess::Start(spec);
  if (!proc.ok()) return proc.status();
  common::ProcessWatch watch(proc->get(), timeout_seconds, common::RealTime());
  PendingArtifactSink sink(out);
  common::ZstdSink zstd(&sink, zstd_level, /*workers=*/1);
  std::vector<char> buf(1 << 20);
  absl::Status write_status = absl::OkStatus();
  ProcessOutput result;
  for (;;) {
    ssize_t n = read((*proc)->stdout_fd(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.bytes += static_cast<uint64_t>(n);
    write_status = zstd.Write(buf.data(), static_cast<size_t>(n));
    if (!write_status.ok()) {
      (*proc)->Kill();
      break;
    }
  }
  if (write_status.ok()) write_status = zstd.Finish();
  absl::StatusOr<int> code = watch.Wait();
  result.stderr_text = (*proc)->stderr_text();
  result.killed = watch.killed();
  if (!write_status.ok()) return write_status;
  if (!code.ok()) return code.status();
  result.exit_code = *code;
  return result;
}

}  // namespace dxbackup::scheduler
