// Encryption at rest for one artifact, around the store's own objects.
//
// SealArtifact turns a PendingArtifact of the store into one that takes the
// artifact's plaintext and stores it as an age v1 file for the given
// recipients:
//
//   auto sealed = SealArtifact(std::move(pending), recipients);
//   (*sealed)->Append(data, size) ...;  // plaintext, as it arrives
//   (*sealed)->Commit(sender_sha256);   // or Abandon()
//   bytes()/sha256(): the plaintext's; stored_bytes()/stored_sha256():
//   the age file's; encrypted_for(): "age1…[,age1…]"
//
// Two digests: the plaintext's, checked against the sender's on Commit
// (the transfer's integrity), and the stored (encrypted) bytes', which the
// catalog records — so a check without the secret key still proves the
// stored bytes whole. Memory is the age stream's (two 64 KiB chunks),
// whatever the artifact's size.
//
// DecryptingReader reads such an object as plaintext with the identities
// it is given: a wrong key is PermissionDenied, a tampered or truncated
// object DataLoss — never wrong bytes. It reads the stored object 64 KiB
// at a time and holds at most one decrypted read's worth.
//
// Both are single-stream, single-thread objects; the PendingArtifact or
// ArtifactReader they wrap is theirs.
#ifndef DXBACKUP_SCHEDULER_CRYPTO_ENCRYPTED_ARTIFACT_H_
#define DXBACKUP_SCHEDULER_CRYPTO_ENCRYPTED_ARTIFACT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sha256.h"
#include "scheduler/crypto/age_decryptor.h"
#include "scheduler/crypto/age_encryptor.h"
#include "scheduler/crypto/age_keys.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler::crypto {

// Whether `prefix` (an object's first bytes, at least 22) begins an age
// file; plain artifacts (tar, zstd, pg_dump) never do.
bool IsAgeFile(std::string_view prefix);

// "age1…,age1…": the recipients an artifact is encrypted for, as the
// catalog records them.
std::string RecipientsFingerprint(const std::vector<Recipient>& recipients);

// The sealed artifact has the same key and lock as `stored`; the bytes
// are counted against the namespace's quota as stored.
absl::StatusOr<std::unique_ptr<PendingArtifact>> SealArtifact(
    std::unique_ptr<PendingArtifact> stored,
    const std::vector<Recipient>& recipients);

class DecryptingReader : public ArtifactReader {
 public:
  // `what` names the object in errors ("ns/dx/set/core-data.tar.zst").
  static absl::StatusOr<std::unique_ptr<DecryptingReader>> Create(
      std::unique_ptr<ArtifactReader> stored, std::vector<Identity> identities,
      std::string what);

  absl::StatusOr<size_t> Read(void* buffer, size_t size) override;
  // Whether a Read failed because none of the identities opens the file
  // (not because the stored object could not be read, or was damaged).
  bool key_refused() const { return key_refused_; }

 private:
  DecryptingReader(std::unique_ptr<ArtifactReader> stored, std::string what);

  std::unique_ptr<ArtifactReader> stored_;
  std::unique_ptr<Decryptor> decryptor_;
  std::string what_;
  std::vector<char> stored_buffer_;  // one read of the stored object
  std::string plain_;                // decrypted, not yet read
  size_t used_ = 0;
  bool finished_ = false;
  bool key_refused_ = false;
};

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_ENCRYPTED_ARTIFACT_H_
