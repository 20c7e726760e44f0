#include "scheduler/crypto/key_ring.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/crypto/encrypted_artifact.h"

namespace dxbackup::scheduler::crypto {
namespace {

std::string NamespaceOf(const std::string& key) {
  return key.substr(0, key.find('/'));
}

bool IsEncrypted(const v1::Artifact& artifact) {
  return !artifact.encrypted_for().empty();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyRing>> KeyRing::Load(
    const v1::SchedulerConfig& config) {
  auto ring = std::make_unique<KeyRing>();
  *ring->config_.mutable_encryption() = config.encryption();
  for (const v1::EncryptionKey& key : config.encryption().keys()) {
    absl::StatusOr<std::vector<Recipient>> recipients =
        LoadRecipients(key.recipients_file());
    if (!recipients.ok()) {
      return absl::Status(
          recipients.status().code(),
          absl::StrCat("encryption key: ", recipients.status().message()));
    }
  }
  for (const std::string& file : config.encryption().identity_files()) {
    absl::StatusOr<std::vector<Identity>> identities = LoadIdentities(file);
    if (!identities.ok()) {
      return absl::Status(
          identities.status().code(),
          absl::StrCat("encryption identity: ", identities.status().message()));
    }
    for (Identity& identity : *identities) {
      ring->identities_.push_back(std::move(identity));
    }
  }
  return ring;
}

absl::StatusOr<std::unique_ptr<PendingArtifact>> KeyRing::Begin(
    ArtifactStore& store, const v1::Artifact& planned, bool exact_lock) const {
  const std::string& path = planned.path();
  const bool sealed = absl::EndsWith(path, kEncryptedSuffix);
  std::vector<Recipient> recipients;
  if (sealed) {
    const v1::EncryptionKey* key = EncryptionKeyFor(config_, NamespaceOf(path));
    if (key == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("artifact ", path,
                       " was planned encrypted but no encryption key "
                       "covers namespace ",
                       NamespaceOf(path), " now; run the set again"));
    }
    absl::StatusOr<std::vector<Recipient>> loaded =
        LoadRecipients(key->recipients_file());
    if (!loaded.ok()) {
      return absl::Status(
          loaded.status().code(),
          absl::StrCat("cannot encrypt ", path, ": ", loaded.status().message(),
                       "; mount the namespace's age recipients file there"));
    }
    recipients = std::move(*loaded);
  }
  absl::StatusOr<std::unique_ptr<PendingArtifact>> pending =
      exact_lock ? store.BeginLockedUntil(path, planned.locked_until_unix())
                 : store.Begin(path, planned.locked_until_unix());
  if (!pending.ok() || !sealed) return pending;
  return SealArtifact(std::move(*pending), recipients);
}

bool KeyRing::CanTryToOpen(const v1::Artifact& artifact,
                           const std::vector<Identity>& given) const {
  return !IsEncrypted(artifact) || !given.empty() || !identities_.empty();
}

absl::StatusOr<std::unique_ptr<DecryptingReader>> KeyRing::OpenDecrypting(
    ArtifactStore& store, const v1::Artifact& artifact,
    const std::vector<Identity>& given) const {
  if (!CanTryToOpen(artifact, given)) {
    return absl::FailedPreconditionError(absl::StrCat(
        artifact.path(), " is encrypted for ", artifact.encrypted_for(),
        " and no secret key was given: give the age identity file of one of "
        "them (--key-file)"));
  }
  absl::StatusOr<std::unique_ptr<ArtifactReader>> stored =
      store.Open(artifact.path());
  if (!stored.ok()) return stored.status();
  std::vector<Identity> keys = given;
  keys.insert(keys.end(), identities_.begin(), identities_.end());
  return DecryptingReader::Create(std::move(*stored), std::move(keys),
                                  artifact.path());
}

absl::StatusOr<std::unique_ptr<ArtifactReader>> KeyRing::OpenPlain(
    ArtifactStore& store, const v1::Artifact& artifact,
    const std::vector<Identity>& given) const {
  if (!IsEncrypted(artifact)) return store.Open(artifact.path());
  absl::StatusOr<std::unique_ptr<DecryptingReader>> plain =
      OpenDecrypting(store, artifact, given);
  if (!plain.ok()) return plain.status();
  return std::unique_ptr<ArtifactReader>(std::move(*plain));
}

absl::Status KeyRing::CheckOpens(ArtifactStore& store,
                                 const v1::Artifact& artifact,
                                 const std::vector<Identity>& given) const {
  if (!IsEncrypted(artifact)) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<DecryptingReader>> plain =
      OpenDecrypting(store, artifact, given);
  if (!plain.ok()) return plain.status();
  char first;
  absl::Status s = (*plain)->Read(&first, 1).status();
  if (!s.ok() && (*plain)->key_refused()) {
    return absl::PermissionDeniedError(absl::StrCat(
        artifact.path(), " is encrypted for ", artifact.encrypted_for(),
        ", and no key given opens it: give the age identity file of one of "
        "those (--key-file)"));
  }
  return s;  // the store's own errors, or a damaged file, as they are
}

void RecordStored(const PendingArtifact& written, v1::Artifact* artifact) {
  artifact->set_bytes(written.stored_bytes());
  artifact->set_sha256(written.stored_sha256());
  artifact->set_locked_until_unix(written.locked_until_unix());
  const std::string encrypted_for = written.encrypted_for();
  if (encrypted_for.empty()) return;
  artifact->set_encrypted_for(encrypted_for);
  artifact->set_plain_bytes(written.bytes());
  artifact->set_plain_sha256(written.sha256());
}

absl::StatusOr<std::vector<Identity>> ParseGivenIdentities(
    const std::string& text) {
  if (text.empty()) return std::vector<Identity>();
  return ParseIdentities(text, "the key file given");
}

uint64_t PlainBytes(const v1::Artifact& artifact) {
  return IsEncrypted(artifact) ? artifact.plain_bytes() : artifact.bytes();
}

const std::string& PlainSha256(const v1::Artifact& artifact) {
  return IsEncrypted(artifact) ? artifact.plain_sha256() : artifact.sha256();
}

}  // namespace dxbackup::scheduler::crypto
