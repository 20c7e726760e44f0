// ArtifactStore keeps artifacts as plain files under <data-dir>/store:
//
//   store/<namespace>/<release>/<set-id>/<file>
//
// A file is written under a ".partial" name, its digest computed as it
// arrives, then fsynced and, only if the digest matches the sender's,
// renamed to its final name and the directory fsynced. So a final name
// always holds a complete, checked file; Reconcile() removes what a crash
// left behind.
//
// With a namespace quota set, the bytes a namespace keeps in the store
// (its committed files plus what is being written) never pass it: a write
// that would is refused with ResourceExhausted naming the namespace.
//
// Thread-safe; a PendingArtifact belongs to one writer and must not outlive
// its store.
#ifndef DXBACKUP_SCHEDULER_STORE_ARTIFACT_STORE_H_
#define DXBACKUP_SCHEDULER_STORE_ARTIFACT_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sha256.h"
#include "scheduler/store/direct_file_writer.h"

namespace dxbackup::scheduler {

class ArtifactStore;

class PendingArtifact {
 public:
  ~PendingArtifact();  // removes the partial file unless committed
  PendingArtifact(const PendingArtifact&) = delete;
  PendingArtifact& operator=(const PendingArtifact&) = delete;

  absl::Status Append(const void* data, size_t size);
  // Makes the file durable under its final name if its SHA-256 equals
  // `expected_sha256` (lower-case hex; empty accepts any). On a mismatch the
  // partial file is removed and DataLoss returned.
  absl::Status Commit(const std::string& expected_sha256);
  void Abandon();

  uint64_t bytes() const { return bytes_; }
  // Valid after Commit().
  const std::string& sha256() const { return sha256_; }
  const std::string& relative_path() const { return relative_path_; }

 private:
  friend class ArtifactStore;
  PendingArtifact(ArtifactStore* store, int fd, std::string final_path,
                  std::string relative_path);

  ArtifactStore* store_;
  std::string namespace_;  // the first component of relative_path_
  int fd_;
  DirectFileWriter writer_;
  std::string final_path_;
  std::string partial_path_;
  std::string relative_path_;
  common::Sha256 digest_;
  uint64_t bytes_ = 0;
  std::string sha256_;
  bool done_ = false;
};

class ArtifactStore {
 public:
  static constexpr char kPartialSuffix[] = ".partial";

  explicit ArtifactStore(std::string store_dir);

  // Creates the store directory if needed.
  absl::Status Init();
  // At most `bytes` stored per namespace (0: no limit). Set before writes.
  void set_namespace_quota(uint64_t bytes) { quota_bytes_ = bytes; }

  static std::string RelativePath(const std::string& namespace_,
                                  const std::string& release,
                                  const std::string& set_id,
                                  const std::string& file_name);
  std::string AbsolutePath(const std::string& relative_path) const;

  // Starts writing `relative_path`; fails if it already exists, and with
  // InvalidArgument unless it is a normal relative path (no "..", ".", empty
  // or absolute parts), so that it can only name a file below the store.
  absl::StatusOr<std::unique_ptr<PendingArtifact>> Begin(
      const std::string& relative_path);

  // Removes partial files and files that no catalog row names
  // (`known_paths`); returns the removed paths.
  absl::StatusOr<std::vector<std::string>> Reconcile(
      const std::vector<std::string>& known_paths);

 private:
  friend class PendingArtifact;
  // Quota accounting, all no-ops without a quota. Reserve: `bytes` more
  // being written in `ns`; Settle: a write ended (committed or not).
  absl::Status Reserve(const std::string& ns, uint64_t bytes);
  void Settle(const std::string& ns, uint64_t bytes, bool committed);
  // Bytes of committed files under the namespace's directory.
  uint64_t StoredBytes(const std::string& ns) const;

  std::string dir_;
  uint64_t quota_bytes_ = 0;
  std::mutex mu_;
  struct Usage {
    uint64_t stored = 0;   // as last counted at a Begin, plus commits since
    uint64_t writing = 0;  // appended to files not yet committed
  };
  std::map<std::string, Usage> usage_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_STORE_ARTIFACT_STORE_H_
