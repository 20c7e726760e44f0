// ReadAheadSource reads another ByteSource on a thread of its own and hands
// its bytes out in order, so that downloading (gRPC, the digest) and
// decompressing overlap the extraction that consumes them. A zstd stream
// (one or more frames; known by its magic number) is decompressed on that
// thread, and the caller sees the plain bytes; anything else (a plain or a
// gzip tar, left to libarchive) is passed on as it came.
//
//   DownloadSource download(...);
//   ReadAheadSource source(&download, [&] { download.Cancel(); });
//   ArchiveExtractor x(&source, &root);
//
// Errors come in stream order: the pieces before an error are handed out
// first. A damaged zstd stream is DataLoss; the inner source is then read
// to its end, and its own error (a failed digest names the part) is the
// one reported, if it has one.
//
// Memory: at most kQueuedPieces pieces of kPieceBytes queued, one in the
// caller's hands, and zstd's window (a stream asking for more than
// 128 MiB is refused).
//
// Threads: Next() from one thread at a time; the inner source's Next() is
// called only from the read-ahead thread. `cancel` is called from the
// destructor's thread when the read-ahead thread may be blocked inside the
// inner source (the caller stopped before the end); it must make that
// Next() return soon (grpc::ClientContext::TryCancel does). The destructor
// joins the thread. `inner` must outlive this source.
#ifndef DXBACKUP_AGENT_RESTORE_READ_AHEAD_SOURCE_H_
#define DXBACKUP_AGENT_RESTORE_READ_AHEAD_SOURCE_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/restore/archive_extractor.h"

namespace dxbackup::agent {

class ReadAheadSource : public ByteSource {
 public:
  static constexpr size_t kPieceBytes = 256 * 1024;
  static constexpr size_t kQueuedPieces = 4;

  ReadAheadSource(ByteSource* inner, std::function<void()> cancel);
  ~ReadAheadSource() override;
  ReadAheadSource(const ReadAheadSource&) = delete;
  ReadAheadSource& operator=(const ReadAheadSource&) = delete;

  // The next piece, valid until the next call; an empty view at the end.
  absl::StatusOr<std::string_view> Next() override;

 private:
  // kPieceBytes of storage, `size` of them filled.
  struct Piece {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };

  // The read-ahead thread's body and its parts.
  void ReadAhead();
  // Reads the inner source up to its first 4 bytes (or its end); false
  // once it failed or the reader stops.
  bool ReadStart(std::string* start);
  // Passes on the inner source's bytes from `start` on, as they come.
  void PassThrough(const std::string& start);
  // Copies `bytes` into pieces and queues them. False once the reader
  // stops.
  bool PutCopy(std::string_view bytes);
  // Decompresses the inner source's zstd stream from `start` on.
  void Decompress(const std::string& start);
  // Reads the inner source to its end after a damaged zstd stream: its own
  // error, if any, replaces `damage`.
  void DrainAfter(absl::Status damage);
  // Queues a piece (if it holds any bytes); waits for room. False once the
  // reader stops.
  bool Put(Piece piece);
  // Ends the stream with `status` (OK: the end).
  void End(absl::Status status);
  // An empty piece to fill, recycled when one is free.
  Piece TakePiece();
  bool Stopping();

  ByteSource* const inner_;
  const std::function<void()> cancel_;

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Piece> filled_;  // under mu_
  std::vector<Piece> free_;   // under mu_
  bool ended_ = false;        // under mu_: nothing more comes
  absl::Status end_status_;   // under mu_
  bool stopping_ = false;     // under mu_: the reader went away

  // The caller's side: the piece it holds.
  Piece current_;

  std::thread thread_;  // last: started once the rest is set up
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_RESTORE_READ_AHEAD_SOURCE_H_
