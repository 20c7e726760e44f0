// ReadAheadSource hands out another source's bytes in order from a thread
// of its own, decompressing a zstd stream there, with errors in stream
// order; stopping early unblocks and joins its thread.
#include "agent/restore/read_ahead_source.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace dxbackup::agent {
namespace {

// Pieces given in order, then the end or `error`.
class PiecesSource : public ByteSource {
 public:
  explicit PiecesSource(std::vector<std::string> pieces,
                        absl::Status error = absl::OkStatus())
      : pieces_(std::move(pieces)), error_(std::move(error)) {}
  absl::StatusOr<std::string_view> Next() override {
    if (next_ < pieces_.size()) return std::string_view(pieces_[next_++]);
    if (!error_.ok()) return error_;
    return std::string_view();
  }

 private:
  std::vector<std::string> pieces_;
  absl::Status error_;
  size_t next_ = 0;
};

// One piece, then waits (as a download from a stalled scheduler does)
// until cancelled.
class StalledSource : public ByteSource {
 public:
  absl::StatusOr<std::string_view> Next() override {
    if (!gave_) {
      gave_ = true;
      return std::string_view("first");
    }
    std::unique_lock<std::mutex> lock(mu_);
    cancelled_cv_.wait(lock, [this] { return cancelled_; });
    return absl::CancelledError("download cancelled");
  }
  void Cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    cancelled_cv_.notify_all();
  }
  bool cancelled() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

 private:
  bool gave_ = false;
  std::mutex mu_;
  std::condition_variable cancelled_cv_;
  bool cancelled_ = false;
};

std::string RandomText(size_t size, unsigned seed) {
  // Compressible, like a profile's XML: words from a small alphabet.
  std::mt19937 random(seed);
  std::string text;
  while (text.size() < size) {
    text.push_back(static_cast<char>('a' + random() % 6));
    if (random() % 7 == 0) text.push_back(' ');
  }
  text.resize(size);
  return text;
}

std::string ZstdFrame(const std::string& plain) {
  std::string frame(ZSTD_compressBound(plain.size()), '\0');
  const size_t n =
      ZSTD_compress(frame.data(), frame.size(), plain.data(), plain.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  frame.resize(n);
  return frame;
}

// `bytes` cut into pieces: the first of one byte (the magic number then
// spans pieces), the rest of `size`.
std::vector<std::string> Cut(const std::string& bytes, size_t size) {
  std::vector<std::string> pieces;
  if (bytes.empty()) return pieces;
  pieces.push_back(bytes.substr(0, 1));
  for (size_t at = 1; at < bytes.size(); at += size) {
    pieces.push_back(bytes.substr(at, size));
  }
  return pieces;
}

// Everything the source hands out until its end or an error.
struct ReadBack {
  std::string bytes;
  absl::Status status;
};
ReadBack ReadAll(ByteSource& source) {
  ReadBack back;
  for (;;) {
    absl::StatusOr<std::string_view> piece = source.Next();
    if (!piece.ok()) {
      back.status = piece.status();
      return back;
    }
    if (piece->empty()) return back;
    back.bytes.append(piece->data(), piece->size());
  }
}

TEST(ReadAheadSourceTest, PassesAStreamThatIsNotZstdThroughUnchanged) {
  // A plain tar (or gzip) stream: libarchive reads it as it came.
  const std::string plain =
      RandomText(3 * ReadAheadSource::kPieceBytes + 17, 1);
  for (size_t size : {size_t{1000}, 2 * ReadAheadSource::kPieceBytes + 3}) {
    PiecesSource inner(Cut(plain, size));
    ReadAheadSource source(&inner, nullptr);
    ReadBack back = ReadAll(source);
    ASSERT_TRUE(back.status.ok()) << back.status;
    EXPECT_EQ(back.bytes, plain) << "pieces of " << size;
    // The end stays the end.
    absl::StatusOr<std::string_view> after = source.Next();
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(after->empty());
  }
}

TEST(ReadAheadSourceTest, StreamsShorterThanTheMagicNumberPassThrough) {
  for (const std::string& bytes : {std::string(), std::string("ab")}) {
    PiecesSource inner(Cut(bytes, 1));
    ReadAheadSource source(&inner, nullptr);
    ReadBack back = ReadAll(source);
    ASSERT_TRUE(back.status.ok()) << back.status;
    EXPECT_EQ(back.bytes, bytes);
  }
}

TEST(ReadAheadSourceTest, DecompressesAZstdStreamOfSeveralFrames) {
  // As the agent writes them: a frame per switch of compressibility.
  const std::string first = RandomText(5 * ReadAheadSource::kPieceBytes, 2);
  const std::string second = RandomText(100000, 3);
  PiecesSource inner(Cut(ZstdFrame(first) + ZstdFrame(second), 4093));
  ReadAheadSource source(&inner, nullptr);
  ReadBack back = ReadAll(source);
  ASSERT_TRUE(back.status.ok()) << back.status;
  EXPECT_TRUE(back.bytes == first + second)
      << "got " << back.bytes.size() << " bytes, want "
      << first.size() + second.size();
}

TEST(ReadAheadSourceTest, ADamagedZstdStreamIsDataLoss) {
  const std::string plain = RandomText(ReadAheadSource::kPieceBytes * 2, 4);
  std::string stored = ZstdFrame(plain);
  stored[stored.size() / 2] ^= 0x5a;
  PiecesSource inner(Cut(stored, 4096));
  ReadAheadSource source(&inner, nullptr);
  ReadBack back = ReadAll(source);
  EXPECT_EQ(back.status.code(), absl::StatusCode::kDataLoss) << back.status;
  EXPECT_NE(back.status.message().find("zstd"), std::string::npos)
      << back.status;
}

TEST(ReadAheadSourceTest, ATruncatedZstdStreamIsDataLoss) {
  const std::string stored =
      ZstdFrame(RandomText(ReadAheadSource::kPieceBytes * 2, 5));
  PiecesSource inner(Cut(stored.substr(0, stored.size() - 100), 4096));
  ReadAheadSource source(&inner, nullptr);
  ReadBack back = ReadAll(source);
  EXPECT_EQ(back.status.code(), absl::StatusCode::kDataLoss) << back.status;
  EXPECT_NE(back.status.message().find("ends inside a frame"),
            std::string::npos)
      << back.status;
}

TEST(ReadAheadSourceTest, TheInnerSourcesOwnErrorNamesADamagedStream) {
  // The download checks the part's digest at its end; that error says
  // which part is corrupt, and wins over zstd's.
  std::string stored = ZstdFrame(RandomText(100000, 6));
  stored[20] ^= 0x5a;
  PiecesSource inner(Cut(stored, 512),
                     absl::DataLossError("part 0 is corrupt: SHA-256 differs"));
  ReadAheadSource source(&inner, nullptr);
  ReadBack back = ReadAll(source);
  EXPECT_EQ(back.status.message(), "part 0 is corrupt: SHA-256 differs");
}

TEST(ReadAheadSourceTest, AnErrorComesAfterTheBytesBeforeIt) {
  const std::string plain = RandomText(10000, 7);
  PiecesSource inner(Cut(plain, 999),
                     absl::UnavailableError("download failed"));
  ReadAheadSource source(&inner, nullptr);
  ReadBack back = ReadAll(source);
  EXPECT_EQ(back.bytes, plain);
  EXPECT_EQ(back.status, absl::UnavailableError("download failed"));
  // And it stays the answer.
  EXPECT_EQ(source.Next().status(), back.status);
}

TEST(ReadAheadSourceTest, StoppingEarlyCancelsADownloadThatWaits) {
  // The extractor fails (a hostile entry) while the scheduler sends
  // nothing: the source must not wait for it to go away.
  StalledSource inner;
  {
    ReadAheadSource source(&inner, [&inner] { inner.Cancel(); });
    absl::StatusOr<std::string_view> first = source.Next();
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(*first, "first");
  }
  EXPECT_TRUE(inner.cancelled());
}

}  // namespace
}  // namespace dxbackup::agent
