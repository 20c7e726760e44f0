#include "scheduler/store/zstd_reader.h"

#include <zstd.h>

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler {
namespace {

constexpr int kMaxWindowLog = 27;  // 128 MiB

}  // namespace

ZstdReader::ZstdReader(ArtifactReader* source, std::string what)
    : source_(source),
      what_(std::move(what)),
      dctx_(ZSTD_createDCtx()),
      in_(ZSTD_DStreamInSize()) {
  if (dctx_ != nullptr) {
    ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, kMaxWindowLog);
  }
}

ZstdReader::~ZstdReader() { ZSTD_freeDCtx(dctx_); }

absl::Status ZstdReader::Fail(const std::string& why) const {
  return absl::DataLossError(absl::StrCat(what_, ": not a whole zstd stream (",
                                          why,
                                          "): the stored copy is damaged"));
}

absl::StatusOr<size_t> ZstdReader::Read(void* buffer, size_t size) {
  if (dctx_ == nullptr) {
    return absl::ResourceExhaustedError("zstd: out of memory");
  }
  if (size == 0) return 0;
  ZSTD_outBuffer out{buffer, size, 0};
  while (out.pos == 0) {
    if (in_pos_ == in_size_ && !source_done_) {
      absl::StatusOr<size_t> n = source_->Read(in_.data(), in_.size());
      if (!n.ok()) return n.status();
      in_pos_ = 0;
      in_size_ = *n;
      source_done_ = *n == 0;
    }
    const bool input_left = in_pos_ < in_size_;
    // The end, between frames (zstd is not asked again: between frames it
    // hints at the next frame's header).
    if (!input_left && source_done_ && frame_left_ == 0) return 0;
    ZSTD_inBuffer in{in_.data(), in_size_, in_pos_};
    const size_t hint = ZSTD_decompressStream(dctx_, &out, &in);
    in_pos_ = in.pos;
    if (ZSTD_isError(hint)) return Fail(ZSTD_getErrorName(hint));
    frame_left_ = hint;
    if (out.pos == 0 && !input_left && source_done_) {
      return Fail("it ends inside a frame");
    }
  }
  return out.pos;
}

}  // namespace dxbackup::scheduler
