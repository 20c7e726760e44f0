// ArtifactStore is where artifacts live: immutable objects under keys
//
//   <namespace>/<release>/<set-id>/<file>        (RelativePath builds them)
//
// An object is written once, from the first byte to the last, through a
// PendingArtifact: Begin(key), Append()..., then Commit(sha256), which makes
// it durable and visible under its key in one step, or Abandon(). Nothing is
// renamed, appended to after Commit or written at random, so a directory
// (DirectoryStore) and an S3-compatible object store fit behind it alike.
// A committed object is read back sequentially through an ArtifactReader,
// its size asked with Stat, and it is removed whole with Remove.
//
// A store may lock what it writes (S3 Object Lock): Begin is told the
// earliest time the object may be removed under its set's policy, the
// store decides the lock (LockUntil: that time plus its margin, or 0 for
// none) and the PendingArtifact reports it, for the catalog to record; an
// object is not removed before its lock ends (the pruner checks).
//
// The rules every store keeps, enforced here and not by implementations:
//  - A key is a normal relative path (no "..", ".", empty or absolute
//    parts): InvalidArgument otherwise, for every call. Keys carry names
//    that came from agents; this keeps them below the store.
//  - Begin refuses a key already committed (AlreadyExists).
//  - The digest is computed as bytes pass; Commit with a different expected
//    digest stores nothing and returns DataLoss.
//  - With a namespace quota, the bytes a namespace keeps (committed objects
//    plus what is being written) never pass it: an Append that would is
//    refused with ResourceExhausted naming the namespace.
//  - What was never committed is never listed, opened or counted.
//
// Thread-safe. A PendingArtifact or ArtifactReader belongs to one caller
// (not thread-safe itself) and must not outlive the store it came from.
#ifndef DXBACKUP_SCHEDULER_STORE_ARTIFACT_STORE_H_
#define DXBACKUP_SCHEDULER_STORE_ARTIFACT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sha256.h"
#include "scheduler/store/namespace_quota.h"

namespace dxbackup::scheduler {

// What the store holds for an object written through a transforming sink.
struct StoredForm {
  uint64_t bytes = 0;
  std::string sha256;
  std::string encrypted_for;  // the recipients ("age1…[,age1…]")
};

// The implementation half of one write: where the bytes go until they are
// published. Called by PendingArtifact only, in order: Write()..., then
// Publish() or Discard(); Discard() also after a failed Publish().
class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  virtual absl::Status Write(const void* data, size_t size) = 0;
  // Makes the bytes durable and visible under the key at once. On an error
  // nothing is visible under the key.
  virtual absl::Status Publish() = 0;
  // Throws away what was written; idempotent.
  virtual void Discard() = 0;
  // For a sink that stores other bytes than it is given (an encrypting
  // one): the object the store holds, valid after Publish. nullptr: the
  // bytes as written.
  virtual const StoredForm* stored_form() const { return nullptr; }
};

// One object being written. Destroyed without Commit() = abandoned.
class PendingArtifact {
 public:
  // `quota`: where its bytes are counted; nullptr: nowhere (a sink that
  // writes into another PendingArtifact, which counts them).
  PendingArtifact(std::string key, std::unique_ptr<ObjectSink> sink,
                  NamespaceQuota* quota);
  ~PendingArtifact();
  PendingArtifact(const PendingArtifact&) = delete;
  PendingArtifact& operator=(const PendingArtifact&) = delete;

  absl::Status Append(const void* data, size_t size);
  // Makes the object durable and visible if its SHA-256 equals
  // `expected_sha256` (lower-case hex; empty accepts any). On a mismatch
  // nothing is stored and DataLoss returned.
  absl::Status Commit(const std::string& expected_sha256);
  void Abandon();

  uint64_t bytes() const { return bytes_; }
  // Valid after Commit().
  const std::string& sha256() const { return sha256_; }
  const std::string& key() const { return key_; }
  // What the store holds, after Commit(): the bytes appended (bytes(),
  // sha256()), or what an encrypting sink made of them.
  uint64_t stored_bytes() const;
  const std::string& stored_sha256() const;
  // The recipients an encrypted object is for; "" when stored as appended.
  std::string encrypted_for() const;
  // The object's lock (unix seconds; 0: none), as the store decided it.
  int64_t locked_until_unix() const { return locked_until_unix_; }
  void set_locked_until_unix(int64_t t) { locked_until_unix_ = t; }

 private:
  std::string key_;
  std::string namespace_;  // the first component of key_
  std::unique_ptr<ObjectSink> sink_;
  NamespaceQuota* quota_;
  common::Sha256 digest_;
  uint64_t bytes_ = 0;
  std::string sha256_;
  int64_t locked_until_unix_ = 0;
  bool done_ = false;
};

// A committed object, read from its first byte on.
class ArtifactReader {
 public:
  virtual ~ArtifactReader() = default;
  // Up to `size` bytes into `buffer`; 0 at the end of the object.
  virtual absl::StatusOr<size_t> Read(void* buffer, size_t size) = 0;
};

// Reads `reader` to its end, handing each piece to `consume`; stops at the
// first error of either.
absl::Status ForEachChunk(
    ArtifactReader& reader,
    const std::function<absl::Status(const char* data, size_t size)>& consume);

struct StoredObject {
  std::string key;
  uint64_t bytes = 0;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;

  static std::string RelativePath(const std::string& namespace_,
                                  const std::string& release,
                                  const std::string& set_id,
                                  const std::string& file_name);

  // At most `bytes` stored per namespace (0: no limit). Set before writes.
  void set_namespace_quota(uint64_t bytes) { quota_.set_limit(bytes); }

  // `keep_until_unix`: the earliest the object may be removed under its
  // policy (0: any time); a locking store locks it until then, or from now,
  // plus its margin.
  absl::StatusOr<std::unique_ptr<PendingArtifact>> Begin(
      const std::string& key, int64_t keep_until_unix = 0);
  // As Begin, but a locking store locks the object exactly until
  // `locked_until_unix` (a future time; 0: the store sets no lock, though
  // a bucket's default retention may): for an object that goes with
  // others already locked (a file list beside its artifact), so that it
  // holds its set no longer than they do. A store that does not lock
  // ignores it.
  absl::StatusOr<std::unique_ptr<PendingArtifact>> BeginLockedUntil(
      const std::string& key, int64_t locked_until_unix);
  // NotFound when no object is committed under `key`.
  absl::StatusOr<std::unique_ptr<ArtifactReader>> Open(const std::string& key);
  absl::StatusOr<uint64_t> Stat(const std::string& key);
  // Removing what is not there succeeds.
  absl::Status Remove(const std::string& key);
  // The committed objects whose keys start with `prefix` ("" for all;
  // "ns/dx/set1/" for one set), sorted by key, with their sizes.
  absl::StatusOr<std::vector<StoredObject>> List(const std::string& prefix);
  // The lock an object begun now with `keep_until_unix` gets (unix
  // seconds; 0: this store does not lock).
  int64_t LockFor(int64_t keep_until_unix) const {
    return LockUntil(keep_until_unix);
  }
  // Throws away what interrupted writes under `prefix` left (a crash's
  // partial files; "" for all, "ns/dx/" for one deployment's); returns
  // what it named. Only while nothing is being written there: at startup,
  // or for a deployment this scheduler has just taken over.
  virtual absl::StatusOr<std::vector<std::string>> RemoveUnfinished(
      const std::string& prefix) = 0;

 protected:
  // The lock of an object that must be kept until `keep_until_unix`
  // (unix seconds; 0: none). Stores without locks keep the default.
  virtual int64_t LockUntil(int64_t keep_until_unix) const { return 0; }
  // Called with keys already checked. StartObject: `key` is not committed;
  // `locked_until_unix` is LockUntil's answer (0: no lock).
  virtual absl::StatusOr<std::unique_ptr<ObjectSink>> StartObject(
      const std::string& key, int64_t locked_until_unix) = 0;
  virtual absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenObject(
      const std::string& key) = 0;
  virtual absl::StatusOr<uint64_t> StatObject(const std::string& key) = 0;
  virtual absl::Status RemoveObject(const std::string& key) = 0;
  virtual absl::StatusOr<std::vector<StoredObject>> ListObjects(
      const std::string& prefix) = 0;

 private:
  absl::StatusOr<std::unique_ptr<PendingArtifact>> BeginWithLock(
      const std::string& key, int64_t locked_until);

  NamespaceQuota quota_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_STORE_ARTIFACT_STORE_H_
