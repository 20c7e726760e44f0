// Programs and the store, joined by pipes, nothing staged.
//
// RunProcessReading runs a program with a stored artifact as its standard
// input, for tools that take a file but can read a stream instead
// (pg_restore with a custom-format dump and no --jobs): the artifact's bytes
// are piped into the child as they are read, so no path leaves the store
// and nothing is staged.
//
// The child's stdout and stderr are collected as by common::RunProcess. A
// child that stops reading early is not an error here: its exit code says
// how it went. An artifact that cannot be read is (the child saw only part
// of it). Blocks until the child exits; `input` is read by the caller's
// thread and must stay valid until then.
//
// RunProcessInto runs a program and appends its standard output to a
// pending artifact as zstd (`zstd_level`), compressed on a worker thread
// while the caller's thread reads the pipe. It returns the exit code and
// the bytes the program wrote (before compression), with its stderr in the
// result; an artifact that cannot be written kills the program and is the
// error. The artifact is not committed.
//
// With `timeout_seconds` above 0, a program still running after that long
// is killed with its process group, and the result says so (`killed`);
// either way, what it left running in its group when it exited is killed
// (common::ProcessWatch).
#ifndef DXBACKUP_SCHEDULER_STORE_ARTIFACT_PIPE_H_
#define DXBACKUP_SCHEDULER_STORE_ARTIFACT_PIPE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/byte_sink.h"
#include "common/process.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

absl::StatusOr<common::ProcessResult> RunProcessReading(
    common::ProcessSpec spec, ArtifactReader& input, int timeout_seconds = 0);

struct ProcessOutput {
  int exit_code = 0;
  uint64_t bytes = 0;  // of stdout, before compression
  std::string stderr_text;
  std::string killed;  // as common::ProcessResult's
};
absl::StatusOr<ProcessOutput> RunProcessInto(common::ProcessSpec spec,
                                             int zstd_level,
                                             PendingArtifact* out,
                                             int timeout_seconds = 0);

// A pending artifact as the ByteSink a stream writer (common::ZstdSink)
// appends to. `out` must outlive it.
class PendingArtifactSink : public common::ByteSink {
 public:
  explicit PendingArtifactSink(PendingArtifact* out) : out_(out) {}
  absl::Status Write(const void* data, size_t size) override {
    return out_->Append(data, size);
  }

 private:
  PendingArtifact* out_;
};

// Appends `bytes` to `out` as one zstd stream at `zstd_level` (not
// committed): for what the scheduler makes in memory itself.
absl::Status WriteZstd(const std::string& bytes, int zstd_level,
                       PendingArtifact* out);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_STORE_ARTIFACT_PIPE_H_
