#include "common/zstd_sink.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <random>
#include <string>

#include "tests/support/string_sink.h"

namespace dxbackup::common {
namespace {

using testing::StringSink;

// Text that compresses, then bytes that do not, in pieces of odd sizes.
std::string Input() {
  std::string in;
  for (int i = 0; in.size() < (3u << 20); ++i) {
    in += "<resource name=\"r" + std::to_string(i) + "\" value=\"x\"/>\n";
  }
  std::mt19937 rng(7);
  for (int i = 0; i < (2 << 20); ++i) in.push_back(static_cast<char>(rng()));
  return in;
}

std::string Decompress(const std::string& frame) {
  const unsigned long long size =
      ZSTD_getFrameContentSize(frame.data(), frame.size());
  std::string out;
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR) {
    ZSTD_DStream* d = ZSTD_createDStream();
    ZSTD_inBuffer in{frame.data(), frame.size(), 0};
    std::string buf(ZSTD_DStreamOutSize(), '\0');
    while (in.pos < in.size) {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      const size_t rc = ZSTD_decompressStream(d, &o, &in);
      EXPECT_FALSE(ZSTD_isError(rc)) << ZSTD_getErrorName(rc);
      if (ZSTD_isError(rc)) break;
      out.append(buf.data(), o.pos);
    }
    ZSTD_freeDStream(d);
  }
  return out;
}

TEST(ZstdSinkTest, OneFrameThatDecompressesToTheInput) {
  const std::string input = Input();
  for (int workers : {0, 1, 2}) {
    StringSink sink;
    ZstdSink zstd(&sink, 3, workers);
    for (size_t at = 0; at < input.size();) {
      const size_t n = std::min<size_t>(input.size() - at, 77777);
      ASSERT_TRUE(zstd.Write(input.data() + at, n).ok());
      at += n;
    }
    ASSERT_TRUE(zstd.Finish().ok());
    EXPECT_LT(sink.bytes.size(), input.size()) << workers;
    EXPECT_EQ(Decompress(sink.bytes), input) << "workers " << workers;
  }
}

TEST(ZstdSinkTest, IncompressiblePartsGoInFastFramesOfTheSameStream) {
  const std::string input = Input();  // text, then random bytes
  const size_t text = 3u << 20;
  EXPECT_FALSE(LooksIncompressible(input.data(), 65536));
  EXPECT_TRUE(LooksIncompressible(input.data() + text + 1000, 65536));
  EXPECT_FALSE(LooksIncompressible(input.data() + text + 1000, 100))
      << "too short to tell";
  for (int workers : {0, 1}) {
    StringSink sink;
    ZstdSink zstd(&sink, 3, workers);
    ASSERT_TRUE(zstd.Write(input.data(), text / 2).ok());
    ASSERT_TRUE(zstd.SetIncompressible(false).ok()) << "no change, no frame";
    ASSERT_TRUE(zstd.Write(input.data() + text / 2, text - text / 2).ok());
    ASSERT_TRUE(zstd.SetIncompressible(true).ok());
    ASSERT_TRUE(zstd.Write(input.data() + text, input.size() - text).ok());
    ASSERT_TRUE(zstd.SetIncompressible(false).ok());
    ASSERT_TRUE(zstd.Write("tail", 4).ok());
    ASSERT_TRUE(zstd.Finish().ok());
    EXPECT_EQ(Decompress(sink.bytes), input + "tail") << "workers " << workers;
  }
}

}  // namespace
}  // namespace dxbackup::common
