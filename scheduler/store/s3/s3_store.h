// S3Store keeps artifacts as objects in an S3-compatible bucket, under
//
//   [<prefix>/]<namespace>/<release>/<set-id>/<file>
//
// the directory store's layout below an optional prefix.
//
// A write streams as a multipart upload: bytes fill a part buffer of
// `part_size`; a full part is uploaded on a background thread while the
// next fills, so one write holds at most two parts in memory
// (2 × part_size) and at most 10,000 parts make one object. An object
// smaller than one part is sent with one PutObject instead. Publish
// uploads the last part, completes the upload and checks with HeadObject
// that the object has the size written; any failure (or Discard) aborts
// the multipart upload, and an object that completed with a wrong size is
// deleted, so nothing wrong stays visible. A PendingArtifact kept across
// an agent's reconnection therefore goes on with the same multipart upload.
//
// With Object Lock (lock_mode), every object is written with its
// retention (x-amz-object-lock-mode and -retain-until-date on PutObject or
// CreateMultipartUpload): never overwritten, never removable before then.
//
// Reads are ranged GETs of `read_chunk` bytes, each retried on its own.
// RemoveUnfinished() aborts every multipart upload under the prefix (what
// a crash left); it must run only while no other writer uses the prefix.
//
// Thread-safe (see ArtifactStore for the rules every store keeps).
#ifndef DXBACKUP_SCHEDULER_STORE_S3_S3_STORE_H_
#define DXBACKUP_SCHEDULER_STORE_S3_S3_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scheduler/store/artifact_store.h"
#include "scheduler/store/s3/s3_client.h"

namespace dxbackup::scheduler::s3 {

struct S3StoreOptions {
  S3Location location;
  RetryPolicy retry;
  std::string prefix;  // no leading or trailing '/'; "" for the bucket root
  size_t part_size = 8u << 20;   // 5 MiB ≤ part_size ≤ 5 GiB
  size_t read_chunk = 8u << 20;  // bytes per ranged GET
  int list_page_size = 1000;     // keys per listing request
  // Object Lock: "GOVERNANCE" or "COMPLIANCE" ("": objects are not
  // locked); each object is locked until the time Begin was given (or
  // now) plus `lock_margin_seconds`. Open refuses a bucket without
  // Object Lock.
  std::string lock_mode;
  int64_t lock_margin_seconds = 0;
  std::function<int64_t()> now_unix;  // default: the system clock
};

class S3Store : public ArtifactStore {
 public:
  // Checks that the bucket answers with these credentials; an error names
  // the bucket, the endpoint and what to fix.
  static absl::StatusOr<std::unique_ptr<S3Store>> Open(S3StoreOptions options);

  absl::StatusOr<std::vector<std::string>> RemoveUnfinished(
      const std::string& prefix) override;
  int64_t LockUntil(int64_t keep_until_unix) const override;

  S3Client& client() { return client_; }

 protected:
  absl::StatusOr<std::unique_ptr<ObjectSink>> StartObject(
      const std::string& key, int64_t locked_until_unix) override;
  absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenObject(
      const std::string& key) override;
  absl::StatusOr<uint64_t> StatObject(const std::string& key) override;
  absl::Status RemoveObject(const std::string& key) override;
  absl::StatusOr<std::vector<StoredObject>> ListObjects(
      const std::string& prefix) override;

 private:
  explicit S3Store(S3StoreOptions options);
  // The object key of a store key, and back.
  std::string ObjectKey(const std::string& key) const;
  std::string StoreKey(const std::string& object_key) const;

  const S3StoreOptions options_;
  const std::string key_prefix_;  // options_.prefix + "/", or ""
  S3Client client_;
};

}  // namespace dxbackup::scheduler::s3

#endif  // DXBACKUP_SCHEDULER_STORE_S3_S3_STORE_H_
