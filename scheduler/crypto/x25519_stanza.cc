#include "scheduler/crypto/x25519_stanza.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler::crypto {
namespace {

constexpr std::string_view kLabel = "age-encryption.org/v1/X25519";
constexpr uint8_t kZeroNonce[kNonceSize] = {};

std::string_view View(const Key32& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

absl::StatusOr<SecretKey32> WrapKey(const SecretKey32& shared,
                                    const Key32& share,
                                    const Key32& recipient) {
  std::string salt(View(share));
  salt.append(View(recipient));
  return HkdfSha256(
      std::string_view(reinterpret_cast<const char*>(shared.data()), 32), salt,
      kLabel);
}

}  // namespace

absl::StatusOr<Stanza> WrapFileKey(const FileKey& file_key,
                                   const Recipient& recipient) {
  SecretKey32 ephemeral;
  Key32 share;
  if (absl::Status s = X25519Generate(&ephemeral, &share); !s.ok()) return s;
  absl::StatusOr<SecretKey32> shared =
      X25519SharedSecret(ephemeral, recipient.public_key());
  if (!shared.ok()) return shared.status();
  absl::StatusOr<SecretKey32> wrap_key =
      WrapKey(*shared, share, recipient.public_key());
  if (!wrap_key.ok()) return wrap_key.status();
  Stanza stanza;
  stanza.type = std::string(kX25519StanzaType);
  stanza.args.push_back(EncodeBase64(share.data(), share.size()));
  stanza.body.resize(kFileKeySize + kTagSize);
  if (absl::Status s =
          Seal(*wrap_key, kZeroNonce, file_key.data(), kFileKeySize,
               reinterpret_cast<uint8_t*>(stanza.body.data()));
      !s.ok()) {
    return s;
  }
  return stanza;
}

absl::Status CheckX25519Stanza(const Stanza& stanza) {
  if (stanza.args.size() != 1) {
    return absl::DataLossError("malformed X25519 stanza: argument count");
  }
  std::optional<std::string> share = DecodeBase64(stanza.args[0]);
  if (!share || share->size() != 32) {
    return absl::DataLossError("malformed X25519 stanza: ephemeral share");
  }
  if (stanza.body.size() != kFileKeySize + kTagSize) {
    return absl::DataLossError("malformed X25519 stanza: body size");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<FileKey>> UnwrapFileKey(const Stanza& stanza,
                                                     const Identity& identity) {
  if (absl::Status s = CheckX25519Stanza(stanza); !s.ok()) return s;
  Key32 share;
  std::memcpy(share.data(), DecodeBase64(stanza.args[0])->data(), 32);
  absl::StatusOr<SecretKey32> shared =
      X25519SharedSecret(identity.secret_key(), share);
  if (!shared.ok()) {
    if (absl::IsInvalidArgument(shared.status())) {
      return absl::DataLossError(
          absl::StrCat("malformed X25519 stanza: ", shared.status().message()));
    }
    return shared.status();
  }
  absl::StatusOr<SecretKey32> wrap_key =
      WrapKey(*shared, share, identity.recipient().public_key());
  if (!wrap_key.ok()) return wrap_key.status();
  FileKey file_key;
  absl::StatusOr<bool> opened =
      Open(*wrap_key, kZeroNonce,
           reinterpret_cast<const uint8_t*>(stanza.body.data()),
           stanza.body.size(), file_key.data());
  if (!opened.ok()) return opened.status();
  if (!*opened) return std::nullopt;
  return file_key;
}

}  // namespace dxbackup::scheduler::crypto
