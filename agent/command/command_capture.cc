#include "agent/command/command_capture.h"

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/command/command_process.h"
#include "common/command_env.h"
#include "common/zstd_sink.h"

namespace dxbackup::agent {
namespace {

// Keeps the last kStdoutTailBytes of what passes.
class Tail {
 public:
  void Add(const char* data, size_t size) {
    text_.append(data, size);
    if (text_.size() > 2 * kStdoutTailBytes) {
      text_.erase(0, text_.size() - kStdoutTailBytes);
    }
  }
  std::string Take() {
    if (text_.size() > kStdoutTailBytes) {
      text_.erase(0, text_.size() - kStdoutTailBytes);
    }
    return std::move(text_);
  }

 private:
  std::string text_;
};

}  // namespace

absl::StatusOr<v1::UploadResult> RunCommandCapture(
    const v1::CommandCapture& command,
    const UploadStream::StubFactory& new_upload_stub,
    const UploadStream::Options& options,
    const UploadStream::ProgressFn& on_progress, RunningCommands* running,
    const common::TimeSource& time, std::string* log) {
  const std::string what = absl::StrCat("the command of ", command.name());
  CommandSpec spec{what,
                   command.name(),
                   &command.command(),
                   &command.env(),
                   &command.env_files(),
                   /*stream_stdout=*/true,
                   /*stream_stdin=*/false,
                   command.timeout_seconds()};
  auto started = RunningCommand::Start(spec, running, time);
  if (!started.ok()) return started.status();
  RunningCommand& cmd = **started;
  common::Subprocess* proc = &cmd.process();
  UploadStream upload(new_upload_stub, command.job_id(), options, on_progress);
  std::unique_ptr<common::ZstdSink> zstd;
  common::ByteSink* out = &upload;
  if (command.compression() == v1::COMPRESSION_ZSTD) {
    zstd = std::make_unique<common::ZstdSink>(
        &upload,
        command.compression_level() > 0 ? command.compression_level() : 1,
        /*workers=*/0);
    out = zstd.get();
  }
  Tail tail;
  uint64_t bytes = 0;
  absl::Status status;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = read(proc->stdout_fd(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes += static_cast<uint64_t>(n);
    if (command.max_bytes() > 0 && bytes > command.max_bytes()) {
      status = absl::ResourceExhaustedError(absl::StrCat(
          what, " printed more than ", command.max_bytes(),
          " bytes and was stopped: it is to print its backup's identifier, "
          "not the backup"));
      break;
    }
    tail.Add(buf.data(), static_cast<size_t>(n));
    status = out->Write(buf.data(), static_cast<size_t>(n));
    if (!status.ok()) break;
  }
  if (!status.ok()) proc->Kill();
  if (status.ok() && zstd != nullptr) status = zstd->Finish();
  absl::StatusOr<int> code = cmd.Wait();
  *log = common::WithoutSecrets(proc->stderr_text(), cmd.env(),
                                command.env_files());
  if (const std::string killed = cmd.killed(); !killed.empty()) {
    status = absl::DeadlineExceededError(absl::StrCat(
        what, " was stopped: ", killed, log->empty() ? "" : ": ", *log));
  }
  if (status.ok() && !code.ok()) status = code.status();
  if (status.ok() && *code != 0) {
    status = absl::InternalError(absl::StrCat(
        what, " exited with status ", *code, log->empty() ? "" : ": ", *log));
  }
  if (status.ok() && bytes == 0) {
    status = absl::DataLossError(absl::StrCat(
        what, " wrote nothing to its stdout; it must write its output there",
        log->empty() ? "" : ": ", *log));
  }
  if (!status.ok()) {
    upload.Cancel();
    return status;
  }
  // Its stderr goes with the upload, which ends the job: a report sent
  // after it would find the job over.
  return upload.Finish(0, "", tail.Take(), *log);
}

}  // namespace dxbackup::agent
