#include "agent/restore/read_ahead_source.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace dxbackup::agent {
namespace {

constexpr int kMaxWindowLog = 27;  // 128 MiB
constexpr unsigned char kZstdMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};

bool IsZstd(const std::string& start) {
  return start.size() >= sizeof kZstdMagic &&
         std::memcmp(start.data(), kZstdMagic, sizeof kZstdMagic) == 0;
}

absl::Status Damaged(const std::string& why) {
  return absl::DataLossError(
      absl::StrCat("restore stream is not a whole zstd stream (", why, ")"));
}

}  // namespace

ReadAheadSource::ReadAheadSource(ByteSource* inner,
                                 std::function<void()> cancel)
    : inner_(inner),
      cancel_(std::move(cancel)),
      thread_([this] { ReadAhead(); }) {}

ReadAheadSource::~ReadAheadSource() {
  bool ended;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    ended = ended_;
  }
  changed_.notify_all();
  // The thread may be waiting inside the inner source.
  if (!ended && cancel_) cancel_();
  thread_.join();
}

absl::StatusOr<std::string_view> ReadAheadSource::Next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (current_.data != nullptr) {
    current_.size = 0;
    free_.push_back(std::move(current_));
    current_ = Piece();
  }
  changed_.wait(lock, [this] { return !filled_.empty() || ended_; });
  if (filled_.empty()) {
    if (!end_status_.ok()) return end_status_;
    return std::string_view();
  }
  current_ = std::move(filled_.front());
  filled_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return std::string_view(current_.data.get(), current_.size);
}

void ReadAheadSource::ReadAhead() {
  std::string start;
  if (!ReadStart(&start)) return;
  if (IsZstd(start)) {
    Decompress(start);
  } else {
    PassThrough(start);
  }
}

bool ReadAheadSource::ReadStart(std::string* start) {
  while (start->size() < sizeof kZstdMagic) {
    absl::StatusOr<std::string_view> piece = inner_->Next();
    if (!piece.ok()) {
      if (PutCopy(*start)) End(piece.status());
      return false;
    }
    if (piece->empty()) break;
    start->append(piece->data(), piece->size());
  }
  return true;
}

void ReadAheadSource::PassThrough(const std::string& start) {
  if (!PutCopy(start)) return;
  if (start.size() < sizeof kZstdMagic) return End(absl::OkStatus());
  for (;;) {
    absl::StatusOr<std::string_view> piece = inner_->Next();
    if (!piece.ok()) return End(piece.status());
    if (piece->empty()) return End(absl::OkStatus());
    if (!PutCopy(*piece)) return;
  }
}

void ReadAheadSource::Decompress(const std::string& start) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(),
                                                          &ZSTD_freeDCtx);
  if (dctx == nullptr) {
    return End(absl::ResourceExhaustedError("zstd: out of memory"));
  }
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, kMaxWindowLog);
  // The inner source's piece being decompressed (valid until its next).
  std::string_view in = start;
  size_t in_pos = 0;
  bool inner_done = false;
  bool output_full = false;  // zstd may hold more output for the same input
  size_t frame_left = 1;     // zstd's hint: 0 only between frames
  Piece out = TakePiece();
  for (;;) {
    if (in_pos == in.size() && !output_full) {
      if (inner_done) break;
      absl::StatusOr<std::string_view> piece = inner_->Next();
      if (!piece.ok()) {
        if (Put(std::move(out))) End(piece.status());
        return;
      }
      inner_done = piece->empty();
      in = *piece;
      in_pos = 0;
      continue;
    }
    ZSTD_inBuffer input{in.data(), in.size(), in_pos};
    ZSTD_outBuffer output{out.data.get(), kPieceBytes, out.size};
    const size_t hint = ZSTD_decompressStream(dctx.get(), &output, &input);
    in_pos = input.pos;
    out.size = output.pos;
    if (ZSTD_isError(hint)) {
      if (!Put(std::move(out))) return;
      return DrainAfter(Damaged(ZSTD_getErrorName(hint)));
    }
    frame_left = hint;
    output_full = out.size == kPieceBytes;
    if (output_full) {
      if (!Put(std::move(out))) return;
      out = TakePiece();
    }
  }
  if (!Put(std::move(out))) return;
  End(frame_left == 0 ? absl::OkStatus() : Damaged("it ends inside a frame"));
}

void ReadAheadSource::DrainAfter(absl::Status damage) {
  while (!Stopping()) {
    absl::StatusOr<std::string_view> piece = inner_->Next();
    if (!piece.ok()) return End(piece.status());
    if (piece->empty()) return End(std::move(damage));
  }
}

bool ReadAheadSource::PutCopy(std::string_view bytes) {
  while (!bytes.empty()) {
    Piece piece = TakePiece();
    piece.size = std::min(bytes.size(), kPieceBytes);
    std::memcpy(piece.data.get(), bytes.data(), piece.size);
    bytes.remove_prefix(piece.size);
    if (!Put(std::move(piece))) return false;
  }
  return !Stopping();
}

bool ReadAheadSource::Put(Piece piece) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock,
                [this] { return filled_.size() < kQueuedPieces || stopping_; });
  if (stopping_) return false;
  if (piece.size > 0) {
    filled_.push_back(std::move(piece));
  } else {
    free_.push_back(std::move(piece));
  }
  lock.unlock();
  changed_.notify_all();
  return true;
}

void ReadAheadSource::End(absl::Status status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    end_status_ = std::move(status);
  }
  changed_.notify_all();
}

ReadAheadSource::Piece ReadAheadSource::TakePiece() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      Piece piece = std::move(free_.back());
      free_.pop_back();
      return piece;
    }
  }
  return Piece{std::unique_ptr<char[]>(new char[kPieceBytes]), 0};
}

bool ReadAheadSource::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

}  // namespace dxbackup::agent
