// ZstdSink compresses a byte stream into one zstd frame and passes the
// compressed bytes on to another ByteSink, with memory bounded by its
// parameters rather than by libzstd's multi-threading defaults (which take
// tens of MiB per stream): a window of at most 1 MiB and, with a worker
// thread, jobs of 1 MiB. With `workers` > 0 compression runs on that many
// threads of its own, overlapping the reading and tar framing that feed it.
//
//   ZstdSink zstd(&upload, /*level=*/3, /*workers=*/1);
//   zstd.Write(...); ...; zstd.Finish();
//
// LooksIncompressible() tells, from a sample, whether data is worth it.
//
// Not thread-safe.
#ifndef DXBACKUP_COMMON_ZSTD_SINK_H_
#define DXBACKUP_COMMON_ZSTD_SINK_H_

#include <string>

#include "absl/status/status.h"
#include "common/byte_sink.h"

struct ZSTD_CCtx_s;

namespace dxbackup::common {

class ZstdSink : public ByteSink {
 public:
  // `next` must outlive the sink.
  ZstdSink(ByteSink* next, int level, int workers);
  ~ZstdSink() override;
  ZstdSink(const ZstdSink&) = delete;
  ZstdSink& operator=(const ZstdSink&) = delete;

  absl::Status Write(const void* data, size_t size) override;
  // What comes next does not compress (media, archives, jars): it goes in
  // a frame of zstd's fastest mode, which costs a fraction of the CPU of
  // searching for matches that are not there. Switching ends the current
  // frame; a zstd stream of several frames is still one stream to zstd,
  // GNU tar and libarchive.
  absl::Status SetIncompressible(bool incompressible);
  // Ends the frame and flushes it to `next`.
  absl::Status Finish();

 private:
  absl::Status Drive(const void* data, size_t size, int mode);
  void Configure(int level);

  ByteSink* next_;
  ZSTD_CCtx_s* cctx_;
  absl::Status init_;
  std::string out_;
  int level_, workers_;
  bool incompressible_ = false;
};

// True when zstd's fastest level saves under 3% on `sample` (at least 4 KiB
// of it; shorter samples are taken to compress).
bool LooksIncompressible(const void* sample, size_t size);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_ZSTD_SINK_H_
