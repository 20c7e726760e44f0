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

namespace {

// Encrypts what is written into the store's own PendingArtifact.
class EncryptingSink : public ObjectSink {
 public:
  EncryptingSink(std::unique_ptr<PendingArtifact> stored,
                 std::string encrypted_for)
      : stored_(std::move(stored)) {
    form_.encrypted_for = std::move(encrypted_for);
  }

  absl::Status Start(const std::vector<Recipient>& recipients) {
    PendingArtifact* out = stored_.get();
    absl::StatusOr<std::unique_ptr<Encryptor>> encryptor =
        Encryptor::Create(recipients, [out](const char* data, size_t size) {
          return out->Append(data, size);
        });
    if (!encryptor.ok()) return encryptor.status();
    encryptor_ = std::move(*encryptor);
    return absl::OkStatus();
  }

  absl::Status Write(const void* data, size_t size) override {
    return encryptor_->Write(static_cast<const char*>(data), size);
  }

  absl::Status Publish() override {
    if (absl::Status s = encryptor_->Finish(); !s.ok()) return s;
    if (absl::Status s = stored_->Commit(""); !s.ok()) return s;
    form_.bytes = stored_->bytes();
    form_.sha256 = stored_->sha256();
    published_ = true;
    return absl::OkStatus();
  }

  void Discard() override { stored_->Abandon(); }

  const StoredForm* stored_form() const override {
    return published_ ? &form_ : nullptr;
  }

 private:
  std::unique_ptr<PendingArtifact> stored_;
  std::unique_ptr<Encryptor> encryptor_;
  StoredForm form_;
  bool published_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PendingArtifact>> SealArtifact(
    std::unique_ptr<PendingArtifact> stored,
    const std::vector<Recipient>& recipients) {
  const std::string key = stored->key();
  const int64_t locked_until = stored->locked_until_unix();
  auto sink = std::make_unique<EncryptingSink>(
      std::move(stored), RecipientsFingerprint(recipients));
  if (absl::Status s = sink->Start(recipients); !s.ok()) {
    sink->Discard();
    return s;
  }
  auto sealed =
      std::make_unique<PendingArtifact>(key, std::move(sink), nullptr);
  sealed->set_locked_until_unix(locked_until);
  return sealed;
}

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
  std::vector<char>& stored_bytes = stored_buffer_;
  if (stored_bytes.empty()) stored_bytes.resize(kStoredReadBytes);
  while (used_ == plain_.size()) {
    if (finished_) return 0;
    plain_.clear();
    used_ = 0;
    // At most 64 KiB of ciphertext per refill: one chunk's plaintext.
    size_t fed = 0;
    while (plain_.empty() && fed < kStoredReadBytes) {
      absl::StatusOr<size_t> n =
          stored_->Read(stored_bytes.data(), stored_bytes.size());
      if (!n.ok()) return n.status();
      if (*n == 0) {
        finished_ = true;
        if (absl::Status s = decryptor_->Finish(); !s.ok()) {
          return absl::Status(s.code(), absl::StrCat(what_, ": ", s.message()));
        }
        break;
      }
      fed += *n;
      if (absl::Status s = decryptor_->Write(stored_bytes.data(), *n);
          !s.ok()) {
        key_refused_ = absl::IsPermissionDenied(s);
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
