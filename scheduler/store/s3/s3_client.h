// S3Client speaks the S3 API to one bucket over HTTP(S) with libcurl, which
// signs every request with AWS Signature Version 4 (CURLOPT_AWS_SIGV4);
// this class builds the canonical URLs and payload hashes that signing
// needs (s3_encoding.h) and reads the XML answers (s3_xml.h).
//
// Every call retries with exponential backoff and jitter on what may pass —
// a connection that failed or broke, HTTP 5xx, 429, S3's SlowDown and
// RequestTimeout — up to RetryPolicy::attempts, then fails Unavailable. A
// 4xx answer fails at once, naming the operation, bucket, key and S3 error
// code: NotFound (NoSuchKey, NoSuchUpload), FailedPrecondition
// (NoSuchBucket, and other refusals), PermissionDenied (403: credentials,
// signature, a locked object).
//
// The secret key is held in memory only: it is never put in a URL, a
// message or a log line.
//
// Thread-safe: calls may run on many threads at once; idle connections are
// kept for reuse (one per concurrent caller).
#ifndef DXBACKUP_SCHEDULER_STORE_S3_S3_CLIENT_H_
#define DXBACKUP_SCHEDULER_STORE_S3_S3_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/store/s3/s3_encoding.h"
#include "scheduler/store/s3/s3_xml.h"

namespace dxbackup::scheduler::s3 {

// Where a bucket is and how to reach it.
struct S3Location {
  std::string endpoint;  // "https://host[:port]" or "http://…"; no path
  std::string bucket;
  std::string region = "us-east-1";
  // true: https://host/bucket/key; false: https://bucket.host/key.
  bool path_style = true;
  std::string ca_file;  // PEM bundle for the endpoint's TLS; "" = system's
  std::string access_key;
  std::string secret_key;
};

struct RetryPolicy {
  int attempts = 6;  // tries per call, the first included
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
};

// Extra request headers ("x-amz-object-lock-mode: GOVERNANCE").
using Headers = std::vector<std::string>;

class S3Client {
 public:
  S3Client(S3Location location, RetryPolicy retry);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Location& location() const { return location_; }
  // Keys asked for per listing request (S3's largest, and the default, is
  // 1000; tests ask for fewer to see pages turn). Set before use.
  void set_list_page_size(int n) { list_page_size_ = n; }
  // "s3://bucket/key" for messages.
  std::string Describe(std::string_view key) const;

  // Whether the bucket exists and these credentials may list it.
  absl::Status CheckBucket();
  // Whether the bucket has Object Lock enabled.
  absl::StatusOr<bool> ObjectLockEnabled();

  absl::Status PutObject(std::string_view key, std::string_view data,
                         const Headers& headers);
  absl::StatusOr<std::string> CreateMultipartUpload(std::string_view key,
                                                    const Headers& headers);
  // Returns the part's ETag. `part_number` counts from 1.
  absl::StatusOr<std::string> UploadPart(std::string_view key,
                                         std::string_view upload_id,
                                         int part_number,
                                         std::string_view data);
  // `size`: the object's, to tell a completion whose answer was lost.
  absl::Status CompleteMultipartUpload(std::string_view key,
                                       std::string_view upload_id,
                                       const std::vector<std::string>& etags,
                                       uint64_t size);
  absl::Status AbortMultipartUpload(std::string_view key,
                                    std::string_view upload_id);
  absl::StatusOr<std::vector<ListedUpload>> ListMultipartUploads(
      std::string_view prefix);

  // The object's size; NotFound if there is none.
  absl::StatusOr<uint64_t> HeadObject(std::string_view key);
  // Bytes [offset, offset + length) of the object (fewer at its end).
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length);
  // Every object whose key starts with `prefix`, in key order, asked for
  // a page of `list_page_size` keys at a time (S3's largest is 1000).
  absl::StatusOr<std::vector<ListedObject>> ListObjects(
      std::string_view prefix);
  // Deleting what is not there succeeds.
  absl::Status DeleteObject(std::string_view key);
  absl::Status DeleteObjects(const std::vector<std::string>& keys);

 private:
  struct Request;
  struct Response;
  // Sends with retries; a 2xx answer (or one of `accepted`) is returned,
  // anything else becomes a status naming `operation` and the key.
  absl::StatusOr<Response> Send(const Request& request);
  // `retryable` may be null.
  absl::StatusOr<Response> SendOnce(const Request& request, bool* retryable);
  // Whether `key` holds an object of `size` bytes (one HeadObject, no
  // retries).
  bool Holds(std::string_view key, uint64_t size);
  std::string Url(std::string_view key, const QueryParams& query) const;
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  const S3Location location_;
  const RetryPolicy retry_;
  int list_page_size_ = 1000;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles with their open connections
};

}  // namespace dxbackup::scheduler::s3

#endif  // DXBACKUP_SCHEDULER_STORE_S3_S3_CLIENT_H_
