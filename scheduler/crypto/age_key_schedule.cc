#include "scheduler/crypto/age_key_schedule.h"

#include <openssl/crypto.h>

namespace dxbackup::scheduler::crypto {

FileKey::~FileKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

absl::StatusOr<std::array<uint8_t, 32>> HeaderMac(const FileKey& file_key,
                                                  std::string_view mac_input) {
  absl::StatusOr<SecretKey32> key = HkdfSha256(file_key.view(), "", "header");
  if (!key.ok()) return key.status();
  return HmacSha256(*key, mac_input);
}

absl::StatusOr<SecretKey32> PayloadKey(const FileKey& file_key,
                                       const uint8_t nonce[kPayloadNonceSize]) {
  return HkdfSha256(
      file_key.view(),
      std::string_view(reinterpret_cast<const char*>(nonce), kPayloadNonceSize),
      "payload");
}

void ChunkNonce(uint64_t index, bool last, uint8_t nonce[kNonceSize]) {
  // Bytes 0-2 are the counter's high bytes, always zero for a 64-bit index.
  for (int i = 0; i < 3; ++i) nonce[i] = 0;
  for (int i = 0; i < 8; ++i) {
    nonce[3 + i] = static_cast<uint8_t>(index >> (8 * (7 - i)));
  }
  nonce[11] = last ? 1 : 0;
}

}  // namespace dxbackup::scheduler::crypto
