#include "common/zstd_sink.h"

#include <zstd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace dxbackup::common {
namespace {

constexpr int kMaxWindowLog = 20;   // 1 MiB
constexpr int kJobBytes = 1 << 20;  // per worker job
// For data that does not compress: zstd's fast mode, which mostly stores.
constexpr int kFastestLevel = -10;
constexpr size_t kMinSample = 4 << 10;
constexpr size_t kMaxSample = 64 << 10;

}  // namespace

ZstdSink::ZstdSink(ByteSink* next, int level, int workers)
    : next_(next), cctx_(ZSTD_createCCtx()), level_(level), workers_(workers) {
  out_.resize(ZSTD_CStreamOutSize());
  if (cctx_ == nullptr) {
    init_ = absl::ResourceExhaustedError("zstd: out of memory");
    return;
  }
  Configure(level_);
}

void ZstdSink::Configure(int level) {
  auto set = [&](ZSTD_cParameter p, int v) {
    const size_t rc = ZSTD_CCtx_setParameter(cctx_, p, v);
    if (ZSTD_isError(rc) && init_.ok()) {
      init_ = absl::InternalError(absl::StrCat("zstd parameter ", p, "=", v,
                                               ": ", ZSTD_getErrorName(rc)));
    }
  };
  set(ZSTD_c_compressionLevel, level);
  set(ZSTD_c_checksumFlag, 1);
  // The level's window, but never above 1 MiB (level 1 uses less).
  if (level >= 2) set(ZSTD_c_windowLog, kMaxWindowLog);
  if (workers_ > 0) {
    set(ZSTD_c_nbWorkers, workers_);
    set(ZSTD_c_jobSize, kJobBytes);
  }
}

absl::Status ZstdSink::SetIncompressible(bool incompressible) {
  if (incompressible == incompressible_ || !init_.ok()) return init_;
  absl::Status s = Drive(nullptr, 0, ZSTD_e_end);
  if (!s.ok()) return s;
  incompressible_ = incompressible;
  ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_and_parameters);
  Configure(incompressible ? kFastestLevel : level_);
  return init_;
}

bool LooksIncompressible(const void* sample, size_t size) {
  if (size < kMinSample) return false;
  size = std::min(size, kMaxSample);
  thread_local std::string out;
  out.resize(ZSTD_compressBound(size));
  const size_t n = ZSTD_compress(out.data(), out.size(), sample, size, 1);
  return !ZSTD_isError(n) && n * 100 > size * 97;
}

ZstdSink::~ZstdSink() { ZSTD_freeCCtx(cctx_); }

absl::Status ZstdSink::Drive(const void* data, size_t size, int mode) {
  if (!init_.ok()) return init_;
  ZSTD_inBuffer in{data, size, 0};
  for (;;) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    const size_t left = ZSTD_compressStream2(
        cctx_, &out, &in, static_cast<ZSTD_EndDirective>(mode));
    if (ZSTD_isError(left)) {
      return absl::InternalError(
          absl::StrCat("zstd: ", ZSTD_getErrorName(left)));
    }
    if (out.pos > 0) {
      absl::Status s = next_->Write(out_.data(), out.pos);
      if (!s.ok()) return s;
    }
    const bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
    if (done) return absl::OkStatus();
  }
}

absl::Status ZstdSink::Write(const void* data, size_t size) {
  return Drive(data, size, ZSTD_e_continue);
}

absl::Status ZstdSink::Finish() { return Drive(nullptr, 0, ZSTD_e_end); }

}  // namespace dxbackup::common
