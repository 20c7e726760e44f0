// UploadStream is the ByteSink that carries one backup job's archive to the
// scheduler over AgentService.Upload: chunks of at most kChunkBytes, in
// sequence, with a running SHA-256 that the trailer carries.
//
// It survives a broken connection. Chunks are kept until the scheduler
// acknowledges them, their index entries packed into their wire form once
// written (as objects they take four to five times as much): at most
// `window_bytes` of memory, and at most `window_entry_bytes` of it packed
// entries; Write blocks beyond either. The second bound keeps the agent's
// memory the same for a million small files as for a few large ones: a
// volume of small files fills the window with entries, not data, while the
// scheduler writes them into its catalog. If the stream breaks with a
// transient error, or no acknowledgement comes
// for `stall_timeout` while chunks are outstanding (the connection is cut
// then), a new stream is opened on a new connection after a backoff and the
// kept chunks are sent again: the upload resumes from the last chunk the
// scheduler acknowledged. It gives up after `max_attempts` breaks in a row
// without progress, or at once when the scheduler refuses the upload.
//
//   UploadStream up(new_stub, job_id, options, on_progress);
//   tar writes into &up ...
//   absl::StatusOr<v1::UploadResult> r = up.Finish(files, fix_level);
//
// Not thread-safe, except Cancel(), which may be called from any thread.
#ifndef DXBACKUP_AGENT_BACKUP_UPLOAD_STREAM_H_
#define DXBACKUP_AGENT_BACKUP_UPLOAD_STREAM_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/backup/tar_stream_writer.h"
#include "common/sha256.h"
#include "common/time_source.h"
#include "dxbackup/v1/agent.grpc.pb.h"

namespace dxbackup::agent {

constexpr size_t kChunkBytes = 1 << 20;
// Index entries held before they are sent without waiting for data.
constexpr size_t kMaxPendingEntries = 2048;
constexpr size_t kMaxPendingEntryBytes = 1 << 20;
// The most of a command's stderr a trailer carries (its last bytes), as
// much as the scheduler keeps of a job's log.
constexpr size_t kMaxTrailerLogBytes = 64 << 10;

// Puts what `buffer` holds into `chunk`, leaving `buffer` empty for the
// next one: moved when it is most of a chunk, copied when the chunk goes for
// its index or its trailer, so that a chunk kept until acknowledged holds
// its bytes and not the buffer's 1 MiB (the buffer keeps it for reuse).
void TakeChunkData(std::string* buffer, v1::UploadChunk* chunk);

// Moves `chunk`'s index entries into `packed`: the wire form of an
// UploadChunk holding only them (a fifth of their memory as objects).
void PackEntries(v1::UploadChunk* chunk, std::string* packed);
// `chunk` with the entries PackEntries took out of it put back.
v1::UploadChunk UnpackEntries(const v1::UploadChunk& chunk,
                              const std::string& packed);

class UploadStream : public common::ByteSink, public EntryObserver {
 public:
  // Called after each chunk with the bytes sent so far.
  using ProgressFn = std::function<void(uint64_t bytes)>;
  // A stub for one attempt; each attempt should get a connection of its
  // own, so that a retry does not reuse a dead one.
  using StubFactory =
      std::function<std::unique_ptr<v1::AgentService::StubInterface>()>;

  struct Options {
    uint64_t limit_bytes_per_second = 0;  // 0: unlimited
    int max_attempts = 8;                 // breaks in a row, no progress
    std::chrono::milliseconds stall_timeout{std::chrono::seconds(60)};
    std::chrono::milliseconds backoff_initial{500};
    std::chrono::milliseconds backoff_max{std::chrono::seconds(15)};
    // Sent but unacknowledged, at most: the memory those chunks hold, and
    // of it the index entries they carry (packed: ~8,000 entries).
    size_t window_bytes = 4 << 20;
    size_t window_entry_bytes = 512 << 10;
    // The stall watchdog, the backoff and the rate limit wait on it; it
    // must outlive the stream.
    const common::TimeSource* time = &common::RealTime();
  };

  UploadStream(StubFactory new_stub, std::string job_id, Options options,
               ProgressFn on_progress);
  ~UploadStream() override;

  absl::Status Write(const void* data, size_t size) override;
  // Queues an index entry; it travels with the next chunk.
  absl::Status OnEntry(v1::FileEntry entry) override;
  // Sends what is buffered and the trailer, and waits for the scheduler's
  // verdict: OK only when the artifact is stored and its digest matched.
  // `stdout_tail` and `log`: a command capture's (UploadTrailer's).
  absl::StatusOr<v1::UploadResult> Finish(uint64_t files,
                                          const std::string& fix_level,
                                          const std::string& stdout_tail = "",
                                          const std::string& log = "");
  void Cancel();

  // Streams opened after the first (for logs and tests).
  int resumes() const { return resumes_; }
  // The most memory kept chunks' packed index entries held at once (read
  // it once Finish returned).
  size_t peak_kept_entry_bytes() const { return peak_kept_entry_bytes_; }
  // Connections the stall watchdog cut (any thread).
  int stall_cuts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stall_cuts_;
  }

 private:
  // A chunk kept until acknowledged. Once written, its index entries move
  // out of `chunk` into `entries`: an UploadChunk's wire form holding only
  // them, which parses back into the chunk if it has to be sent again.
  struct Sent {
    v1::UploadChunk chunk;
    std::string entries;
    size_t bytes;        // the memory chunk and entries hold
    size_t entry_bytes;  // of which entries
  };
  // One stream: its stub, call and the thread reading acknowledgements.
  struct Attempt {
    std::unique_ptr<v1::AgentService::StubInterface> stub;
    grpc::ClientContext context;
    std::unique_ptr<
        grpc::ClientReaderWriterInterface<v1::UploadChunk, v1::UploadReply>>
        stream;
    std::thread reader;
  };

  absl::Status SendBuffered(const v1::UploadTrailer* trailer);
  // Sends `chunk` (kept until acknowledged) and waits for window room.
  absl::Status Push(v1::UploadChunk chunk);
  // Opens a new stream after a break and sends every kept chunk again.
  absl::Status Resume();
  // Ends the current stream; its status (a cut by the watchdog counts as
  // UNAVAILABLE).
  grpc::Status CloseAttempt();
  void OpenAttempt();
  void ReadReplies(Attempt* attempt);
  void Watch();
  void DropAcknowledgedLocked();
  void Throttle();

  StubFactory new_stub_;
  std::string job_id_;
  Options options_;
  ProgressFn on_progress_;
  common::Sha256 digest_;
  std::string buffer_;
  std::vector<v1::FileEntry> entries_;
  size_t entries_bytes_ = 0;
  uint64_t sequence_ = 0;
  uint64_t bytes_ = 0;
  common::TimeSource::MonotonicTime started_;
  std::unique_ptr<Attempt> attempt_;  // replaced only by the writer
  int resumes_ = 0;

  // Guards what follows; the reader and watchdog share it.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Sent> kept_;  // sent, not yet acknowledged
  size_t kept_bytes_ = 0;
  size_t kept_entry_bytes_ = 0;
  size_t peak_kept_entry_bytes_ = 0;
  uint64_t acknowledged_ = 0;  // the scheduler's next_sequence
  common::TimeSource::MonotonicTime last_ack_;
  int stall_cuts_ = 0;
  bool reader_done_ = true;
  bool stall_cut_ = false;
  bool cancelled_ = false;
  bool stopping_ = false;
  std::optional<v1::UploadResult> result_;
  std::thread watchdog_;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_BACKUP_UPLOAD_STREAM_H_
