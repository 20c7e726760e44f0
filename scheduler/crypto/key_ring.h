// KeyRing: the scheduler's encryption keys, as its config names them, and
// the one place an artifact is begun sealed or opened in clear.
//
// Writing: a set's plan names an artifact of an encrypted namespace with
// ".age" at the end of its path (BackupPlan asks EncryptionKeyFor); Begin
// seals exactly those, for the recipients its namespace's key lists. The
// recipients file is read again at every Begin, so a rotated key (a new
// public key in the mounted Secret) is used by the next artifact without a
// restart; an unreadable file fails that artifact, naming the file.
//
// Reading: OpenPlain gives an artifact's plaintext — as stored when it is
// not encrypted, decrypted otherwise with the identities a caller gave
// (`--key-file`) and those the config lists. Without any: FailedPrecondition
// naming the recipients it needs; with wrong ones: PermissionDenied.
//
// Secret keys stay in memory (never the catalog, a log or a message).
// Thread-safe: immutable after Load.
#ifndef DXBACKUP_SCHEDULER_CRYPTO_KEY_RING_H_
#define DXBACKUP_SCHEDULER_CRYPTO_KEY_RING_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/crypto/age_keys.h"
#include "scheduler/crypto/encrypted_artifact.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler::crypto {

// The suffix of an encrypted artifact's path: an age file.
inline constexpr char kEncryptedSuffix[] = ".age";

class KeyRing {
 public:
  // No keys: every artifact is written as it comes.
  KeyRing() = default;
  // Reads every file `config.encryption` names, so that a missing or
  // malformed one stops the start, naming it.
  static absl::StatusOr<std::unique_ptr<KeyRing>> Load(
      const v1::SchedulerConfig& config);

  // Begins the artifact `planned` describes (its path, its lock), sealed
  // when its path ends in ".age". Its locked_until_unix is the time its
  // policy keeps it until (ArtifactStore::Begin), or with `exact_lock`
  // the lock itself (ArtifactStore::BeginLockedUntil).
  absl::StatusOr<std::unique_ptr<PendingArtifact>> Begin(
      ArtifactStore& store, const v1::Artifact& planned,
      bool exact_lock = false) const;

  // The plaintext of a stored artifact. `given`: identities a caller gave.
  absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenPlain(
      ArtifactStore& store, const v1::Artifact& artifact,
      const std::vector<Identity>& given) const;

  // Whether OpenPlain of `artifact` has keys to try (always, when it is not
  // encrypted).
  bool CanTryToOpen(const v1::Artifact& artifact,
                    const std::vector<Identity>& given) const;

  // Proves that OpenPlain of `artifact` decrypts it (reads its first
  // bytes), so that a restore stops before it writes anything: OK for one
  // in clear; FailedPrecondition without keys, PermissionDenied with
  // wrong ones, each naming the artifact and the recipients it needs.
  absl::Status CheckOpens(ArtifactStore& store, const v1::Artifact& artifact,
                          const std::vector<Identity>& given) const;

 private:
  // An encrypted artifact opened for decryption with `given` and the
  // ring's identities; FailedPrecondition when there are none.
  absl::StatusOr<std::unique_ptr<DecryptingReader>> OpenDecrypting(
      ArtifactStore& store, const v1::Artifact& artifact,
      const std::vector<Identity>& given) const;

  v1::SchedulerConfig config_;  // its `encryption` only
  std::vector<Identity> identities_;
};

// Records on `artifact` what the store holds for `written` (committed):
// its size, SHA-256 and lock, and for an encrypted one whom it is for and
// its plaintext's size and SHA-256.
void RecordStored(const PendingArtifact& written, v1::Artifact* artifact);

// The identities of an age identity file's text, as a caller sends it
// (`--key-file`). "" gives none. InvalidArgument, without the text, when a
// line is not an identity.
absl::StatusOr<std::vector<Identity>> ParseGivenIdentities(
    const std::string& text);

// The size and SHA-256 of an artifact's plaintext (what an agent restores
// and checks): the stored object's unless it is encrypted.
uint64_t PlainBytes(const v1::Artifact& artifact);
const std::string& PlainSha256(const v1::Artifact& artifact);

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_KEY_RING_H_
