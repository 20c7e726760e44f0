// age v1's symmetric key schedule (https://age-encryption.org/v1):
//
//   file key     16 random bytes per file, wrapped once per recipient
//   header MAC   HMAC-SHA256(HKDF-SHA256(ikm = file key, salt = "",
//                info = "header"), header through "---")
//   payload key  HKDF-SHA256(ikm = file key, salt = 16-byte payload nonce,
//                info = "payload")
//   payload      ChaCha20-Poly1305 STREAM: 64 KiB plaintext chunks, nonce =
//                11-byte big-endian chunk counter || 1 last-chunk flag byte
//
// Thread-safe (pure functions).
#ifndef DXBACKUP_SCHEDULER_CRYPTO_AGE_KEY_SCHEDULE_H_
#define DXBACKUP_SCHEDULER_CRYPTO_AGE_KEY_SCHEDULE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "scheduler/crypto/primitives.h"

namespace dxbackup::scheduler::crypto {

inline constexpr size_t kFileKeySize = 16;
inline constexpr size_t kPayloadNonceSize = 16;
inline constexpr size_t kChunkSize = 64 * 1024;  // plaintext per chunk
inline constexpr size_t kSealedChunkSize = kChunkSize + kTagSize;

// The 16-byte file key, wiped on destruction.
class FileKey {
 public:
  FileKey() { bytes_.fill(0); }
  FileKey(const FileKey& other) : bytes_(other.bytes_) {}
  FileKey& operator=(const FileKey& other) {
    bytes_ = other.bytes_;
    return *this;
  }
  ~FileKey();
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

 private:
  std::array<uint8_t, kFileKeySize> bytes_;
};

absl::StatusOr<std::array<uint8_t, 32>> HeaderMac(const FileKey& file_key,
                                                  std::string_view mac_input);
absl::StatusOr<SecretKey32> PayloadKey(const FileKey& file_key,
                                       const uint8_t nonce[kPayloadNonceSize]);
// The STREAM nonce of chunk `index`.
void ChunkNonce(uint64_t index, bool last, uint8_t nonce[kNonceSize]);

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_AGE_KEY_SCHEDULE_H_
