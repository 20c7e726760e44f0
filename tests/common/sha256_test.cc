#include "common/sha256.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace dxbackup::common {
namespace {

TEST(Sha256Test, MatchesTheStandardVectors) {
  Sha256 empty;
  EXPECT_EQ(empty.HexDigest(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.Update("a");
  abc.Update("bc");
  EXPECT_EQ(abc.HexDigest(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, FileDigestEqualsStreamDigest) {
  testing::TempDir dir;
  testing::WriteFile(dir / "f", "abc");
  auto digest = Sha256OfFile(dir / "f");
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(*digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(Sha256OfFile(dir / "missing").ok());
}

}  // namespace
}  // namespace dxbackup::common
