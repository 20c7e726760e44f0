#include "scheduler/crypto/encrypted_artifact.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler::crypto {
namespace {

constexpr std::string_view kAgeIntro = "age-encryption.org/v1\n";
constexpr size_t kStoredReadBytes = 64 << 10;

}  // namespace

bool IsAgeFile(std::string_view prefix) {
  return prefix.substr(0, kAgeIntro.size()) == kAgeIntro;
}

std::string RecipientsFingerprint(const std::vector<Recipient>& recipients) {
  std::string out;
  for (const Recipient& r : recipients) {
    if (!out.empty()) out += ',';
    out += r.ToString();
  }
  return out;
}

EncryptingWriter::EncryptingWriter(std::unique_ptr<PendingArtifact> stored,
                                   std::string encrypted_for)
    : stored_(std::move(stored)), encrypted_for_(std::move(encrypted_for)) {}

absl::StatusOr<std::unique_ptr<EncryptingWriter>> EncryptingWriter::Create(
    std::unique_ptr<PendingArtifact> stored,
    const std::vector<Recipient>& recipients) {
  std::unique_ptr<EncryptingWriter> writer(new EncryptingWriter(
      std::move(stored), RecipientsFingerprint(recipients)));
  PendingArtifact* out = writer->stored_.get();
  absl::StatusOr<std::unique_ptr<Encryptor>> encryptor = Encryptor::Create(
      recipients,
      [out](const char* data, size_t size) { return out->Append(data, size); });
  if (!encryptor.ok()) {
    writer->stored_->Abandon();
    return encryptor.status();
  }
  writer->encryptor_ = std::move(*encryptor);
  return writer;
}

absl::Status EncryptingWriter::Append(const void* data, size_t size) {
  plain_digest_.Update(data, size);
  plain_bytes_ += size;
  return encryptor_->Write(static_cast<const char*>(data), size);
}

absl::Status EncryptingWriter::Commit(
    const std::string& expected_plain_sha256) {
  plain_sha256_ = plain_digest_.HexDigest();
  if (!expected_plain_sha256.empty() &&
      expected_plain_sha256 != plain_sha256_) {
    stored_->Abandon();
    return absl::DataLossError(absl::StrCat(
        "digest mismatch for ", stored_->key(), ": sender says ",
        expected_plain_sha256, ", received bytes hash to ", plain_sha256_,
        "; the stream was damaged in transit and nothing was stored"));
  }
  if (absl::Status s = encryptor_->Finish(); !s.ok()) {
    stored_->Abandon();
    return s;
  }
  return stored_->Commit("");
}

void EncryptingWriter::Abandon() { stored_->Abandon(); }

DecryptingReader::DecryptingReader(std::unique_ptr<ArtifactReader> stored,
                                   std::string what)
    : stored_(std::move(stored)), what_(std::move(what)) {}

absl::StatusOr<std::unique_ptr<DecryptingReader>> DecryptingReader::Create(
    std::unique_ptr<ArtifactReader> stored, std::vector<Identity> identities,
    std::string what) {
  if (identities.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     " is encrypted and no secret key was given: give the key "
                     "file its namespace's recipients belong to (--key-file)"));
  }
  std::unique_ptr<DecryptingReader> reader(
      new DecryptingReader(std::move(stored), std::move(what)));
  std::string* plain = &reader->plain_;
  absl::StatusOr<std::unique_ptr<Decryptor>> decryptor = Decryptor::Create(
      std::move(identities), [plain](const char* data, size_t size) {
        plain->append(data, size);
        return absl::OkStatus();
      });
  if (!decryptor.ok()) return decryptor.status();
  reader->decryptor_ = std::move(*decryptor);
  return reader;
}

absl::StatusOr<size_t> DecryptingReader::Read(void* buffer, size_t size) {
  char stored_bytes[4096];
  while (used_ == plain_.size()) {
    if (finished_) return 0;
    plain_.clear();
    used_ = 0;
    // At most 64 KiB of ciphertext per refill: one chunk's plaintext.
    size_t fed = 0;
    while (plain_.empty() && fed < kStoredReadBytes) {
      absl::StatusOr<size_t> n =
          stored_->Read(stored_bytes, sizeof stored_bytes);
      if (!n.ok()) return n.status();
      if (*n == 0) {
        finished_ = true;
        if (absl::Status s = decryptor_->Finish(); !s.ok()) {
          return absl::Status(s.code(), absl::StrCat(what_, ": ", s.message()));
        }
        break;
      }
      fed += *n;
      if (absl::Status s = decryptor_->Write(stored_bytes, *n); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(what_, ": ", s.message()));
      }
    }
  }
  const size_t n = std::min(size, plain_.size() - used_);
  std::memcpy(buffer, plain_.data() + used_, n);
  used_ += n;
  return n;
}

}  // namespace dxbackup::scheduler::crypto
