// ZstdReader reads another ArtifactReader's zstd stream (one or more
// frames) and hands out the decompressed bytes. A damaged or truncated
// stream is DataLoss naming `what`; frames carry zstd's checksum where the
// writer put one (common/zstd_sink.h always does), which is checked.
//
//   ZstdReader plain(&stored, "dxmediadb.pgdump.zst");
//   while ((n = plain.Read(buf, sizeof buf)) > 0) ...
//
// Memory: zstd's window (at most 1 MiB for dxbackup's streams; a stream
// asking for more than 128 MiB is refused) and two 128 KiB buffers.
// Not thread-safe; `source` must outlive the reader.
#ifndef DXBACKUP_SCHEDULER_STORE_ZSTD_READER_H_
#define DXBACKUP_SCHEDULER_STORE_ZSTD_READER_H_

#include <string>
#include <vector>

#include "scheduler/store/artifact_store.h"

struct ZSTD_DCtx_s;

namespace dxbackup::scheduler {

class ZstdReader : public ArtifactReader {
 public:
  ZstdReader(ArtifactReader* source, std::string what);
  ~ZstdReader() override;
  ZstdReader(const ZstdReader&) = delete;
  ZstdReader& operator=(const ZstdReader&) = delete;

  absl::StatusOr<size_t> Read(void* buffer, size_t size) override;

 private:
  absl::Status Fail(const std::string& why) const;

  ArtifactReader* source_;
  std::string what_;
  ZSTD_DCtx_s* dctx_;
  std::vector<char> in_;
  size_t in_pos_ = 0, in_size_ = 0;
  size_t frame_left_ = 1;  // zstd's hint: 0 only between frames
  bool source_done_ = false;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_STORE_ZSTD_READER_H_
