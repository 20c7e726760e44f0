#include "scheduler/store/s3/s3_encoding.h"

#include <gtest/gtest.h>

namespace dxbackup::scheduler::s3 {
namespace {

TEST(S3EncodingTest, KeepsUnreservedCharactersAndEncodesTheRest) {
  EXPECT_EQ(UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(UriEncode("a b/c+d=e&f", false), "a%20b%2Fc%2Bd%3De%26f");
  EXPECT_EQ(UriEncode("ns/dx/set 1/core.tar.zst", true),
            "ns/dx/set%201/core.tar.zst");
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9") << "upper-case hex";
}

TEST(S3EncodingTest, CanonicalQueryIsSortedWithEveryValueWritten) {
  // libcurl 7.88 signs the query as given: unsorted, or "uploads" without
  // "=", it signs a form S3 does not, and S3 answers SignatureDoesNotMatch.
  EXPECT_EQ(CanonicalQuery({{"uploadId", "x/y"}, {"partNumber", "2"}}),
            "partNumber=2&uploadId=x%2Fy");
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}, {"prefix", "a b"}}),
            "prefix=a%20b&uploads=");
  EXPECT_EQ(CanonicalQuery({}), "");
}

}  // namespace
}  // namespace dxbackup::scheduler::s3
