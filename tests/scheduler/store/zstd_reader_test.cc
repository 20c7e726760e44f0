// ZstdReader: what the scheduler reads a zstd dump through (restore,
// verify --deep). Streams come from common::ZstdSink, as the scheduler
// writes them.
#include "scheduler/store/zstd_reader.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/zstd_sink.h"
#include "tests/support/string_reader.h"
#include "tests/support/string_sink.h"

namespace dxbackup::scheduler {
namespace {

using testing::StringReader;

// Text, then random bytes (a frame of zstd's fast mode), then text again:
// three frames.
std::string Compressed(const std::string& text, const std::string& noise) {
  testing::StringSink sink;
  common::ZstdSink zstd(&sink, 1, /*workers=*/0);
  EXPECT_TRUE(zstd.Write(text.data(), text.size()).ok());
  EXPECT_TRUE(zstd.SetIncompressible(true).ok());
  EXPECT_TRUE(zstd.Write(noise.data(), noise.size()).ok());
  EXPECT_TRUE(zstd.SetIncompressible(false).ok());
  EXPECT_TRUE(zstd.Write(text.data(), text.size()).ok());
  EXPECT_TRUE(zstd.Finish().ok());
  return sink.bytes;
}

absl::StatusOr<std::string> ReadAll(ArtifactReader& reader, size_t step) {
  std::string out, buf(step, '\0');
  for (;;) {
    absl::StatusOr<size_t> n = reader.Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

class ZstdReaderTest : public ::testing::Test {
 protected:
  ZstdReaderTest() {
    std::mt19937 rng(7);
    for (int i = 0; i < 40000; ++i) text_ += "row " + std::to_string(i) + "\n";
    noise_.resize(300000);
    for (char& c : noise_) c = static_cast<char>(rng());
    stream_ = Compressed(text_, noise_);
  }
  std::string text_, noise_, stream_;
};

TEST_F(ZstdReaderTest, GivesBackEveryFrameWhateverTheReadSizes) {
  for (size_t source_step : {size_t{1} << 20, size_t{7}}) {
    for (size_t read_step : {size_t{1} << 20, size_t{13}}) {
      StringReader stored(stream_, source_step);
      ZstdReader plain(&stored, "db.pgdump.zst");
      absl::StatusOr<std::string> got = ReadAll(plain, read_step);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_TRUE(*got == text_ + noise_ + text_)
          << "source step " << source_step << ", read step " << read_step;
    }
  }
}

TEST_F(ZstdReaderTest, ACutStreamIsDataLossNamingTheArtifact) {
  for (size_t keep : {stream_.size() - 1, stream_.size() / 2, size_t{3}}) {
    StringReader stored(stream_.substr(0, keep), 4096);
    ZstdReader plain(&stored, "db.pgdump.zst");
    absl::StatusOr<std::string> got = ReadAll(plain, 65536);
    ASSERT_FALSE(got.ok()) << "cut to " << keep << " bytes";
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(got.status().message().find("db.pgdump.zst"), std::string::npos)
        << got.status();
  }
}

TEST_F(ZstdReaderTest, AFlippedByteIsDataLossNotWrongBytes) {
  // Inside the first frame's compressed text: zstd's frame checksum (or
  // the block decoder) catches it.
  std::string damaged = stream_;
  damaged[damaged.size() / 8] ^= 0x20;
  StringReader stored(damaged, 65536);
  ZstdReader plain(&stored, "db.pgdump.zst");
  absl::StatusOr<std::string> got = ReadAll(plain, 65536);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(ZstdReaderTest, NothingAtAllIsNotAStream) {
  StringReader stored("", 4096);
  ZstdReader plain(&stored, "db.pgdump.zst");
  EXPECT_EQ(ReadAll(plain, 4096).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace dxbackup::scheduler
