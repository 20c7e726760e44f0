#include "scheduler/store/s3/s3_xml.h"

#include <gtest/gtest.h>

namespace dxbackup::scheduler::s3 {
namespace {

constexpr char kNs[] = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

TEST(S3XmlTest, ReadsErrorBodies) {
  auto error = ParseError(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message></Error>");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "NoSuchKey");
  EXPECT_EQ(error->message, "The specified key does not exist.");
  EXPECT_FALSE(ParseError("<ListBucketResult/>").has_value());
  EXPECT_FALSE(ParseError("not xml at all").has_value());
  EXPECT_FALSE(ParseError("").has_value());
}

TEST(S3XmlTest, ReadsUploadIdsWithOrWithoutTheS3Namespace) {
  EXPECT_EQ(
      *ParseUploadId(std::string("<InitiateMultipartUploadResult ") + kNs +
                     "><UploadId>abc</UploadId>"
                     "</InitiateMultipartUploadResult>"),
      "abc");
  EXPECT_EQ(*ParseUploadId("<InitiateMultipartUploadResult><UploadId>d"
                           "</UploadId></InitiateMultipartUploadResult>"),
            "d");
  EXPECT_EQ(ParseUploadId("<Error><Code>x</Code></Error>").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(S3XmlTest, ReadsAListingPageAndItsContinuation) {
  auto page = ParseListObjectsV2(
      std::string("<ListBucketResult ") + kNs +
      "><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>t2</NextContinuationToken>"
      "<Contents><Key>p/a</Key><Size>3</Size></Contents>"
      "<Contents><Key>p/b &amp; c</Key><Size>0</Size></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[1].key, "p/b & c");
  EXPECT_EQ(page->objects[0].size, 3u);
  EXPECT_EQ(page->next_continuation_token, "t2");
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true"
                                  "</IsTruncated></ListBucketResult>")
                   .ok())
      << "truncated without a token would loop or stop early";
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key>"
                                  "<Size>-1</Size></Contents>"
                                  "</ListBucketResult>")
                   .ok());
}

TEST(S3XmlTest, ReadsUploadsDeletesAndObjectLock) {
  auto uploads = ParseListMultipartUploads(
      "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
      "<Upload><Key>k</Key><UploadId>u1</UploadId></Upload>"
      "</ListMultipartUploadsResult>");
  ASSERT_TRUE(uploads.ok());
  ASSERT_EQ(uploads->uploads.size(), 1u);
  EXPECT_EQ(uploads->uploads[0].upload_id, "u1");
  auto failures = ParseDeleteResult(
      "<DeleteResult><Error><Key>k</Key><Code>AccessDenied</Code>"
      "<Message>locked</Message></Error></DeleteResult>");
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].code, "AccessDenied");
  EXPECT_TRUE(*ParseObjectLockEnabled(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled"
      "</ObjectLockEnabled></ObjectLockConfiguration>"));
}

TEST(S3XmlTest, BuildsRequestBodiesWithEscaping) {
  const std::string complete = CompleteMultipartUploadBody({"\"e1\"", "e2"});
  EXPECT_NE(complete.find("<Part><PartNumber>1</PartNumber>"
                          "<ETag>\"e1\"</ETag></Part>"),
            std::string::npos)
      << complete;
  EXPECT_NE(complete.find("<PartNumber>2</PartNumber>"), std::string::npos);
  const std::string del = DeleteObjectsBody({"a<b&c"});
  EXPECT_NE(del.find("<Key>a&lt;b&amp;c</Key>"), std::string::npos) << del;
  EXPECT_NE(del.find("<Quiet>true</Quiet>"), std::string::npos);
}

TEST(S3XmlTest, NeverLoadsExternalEntities) {
  // An answer that names a local file must not pull it in.
  auto error = ParseError(
      "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM "
      "\"file:///etc/passwd\">]><Error><Code>&x;</Code></Error>");
  if (error.has_value()) {
    EXPECT_EQ(error->code.find("root:"), std::string::npos) << error->code;
  }
}

}  // namespace
}  // namespace dxbackup::scheduler::s3
