// The XML documents of the S3 API that dxbackup reads and writes, parsed
// and built with libxml2 (never by hand): error bodies, multipart upload
// results, object and upload listings, batch deletes, Object Lock status.
//
// Parsing matches elements by local name, with or without S3's namespace
// (servers differ), never loads external entities or the network, and
// refuses a document that is not the one expected with InvalidArgument
// naming it. Thread-safe.
#ifndef DXBACKUP_SCHEDULER_STORE_S3_S3_XML_H_
#define DXBACKUP_SCHEDULER_STORE_S3_S3_XML_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dxbackup::scheduler::s3 {

struct ErrorBody {
  std::string code;  // "NoSuchKey", "SlowDown", ...
  std::string message;
};
// The <Error> document in `body`, or nullopt if it is not one.
std::optional<ErrorBody> ParseError(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult.
absl::StatusOr<std::string> ParseUploadId(std::string_view body);

struct ListedObject {
  std::string key;
  uint64_t size = 0;
};
struct ObjectPage {
  std::vector<ListedObject> objects;
  std::string next_continuation_token;  // "" on the last page
};
absl::StatusOr<ObjectPage> ParseListObjectsV2(std::string_view body);

struct ListedUpload {
  std::string key;
  std::string upload_id;
};
struct UploadPage {
  std::vector<ListedUpload> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
absl::StatusOr<UploadPage> ParseListMultipartUploads(std::string_view body);

struct DeleteFailure {
  std::string key;
  std::string code;
  std::string message;
};
// The <Error> entries of a DeleteResult (empty: every key was deleted).
absl::StatusOr<std::vector<DeleteFailure>> ParseDeleteResult(
    std::string_view body);

// Whether an ObjectLockConfiguration says ObjectLockEnabled=Enabled.
absl::StatusOr<bool> ParseObjectLockEnabled(std::string_view body);

// The body of CompleteMultipartUpload: parts 1..n with their ETags.
std::string CompleteMultipartUploadBody(const std::vector<std::string>& etags);
// The body of DeleteObjects for `keys` (at most 1000), in quiet mode.
std::string DeleteObjectsBody(const std::vector<std::string>& keys);

}  // namespace dxbackup::scheduler::s3

#endif  // DXBACKUP_SCHEDULER_STORE_S3_S3_XML_H_
