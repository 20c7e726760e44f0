// The cryptographic primitives age v1 is built from, each one a thin call
// into OpenSSL 3 (EVP): nothing here implements a primitive itself.
//
//   X25519            EVP_PKEY_X25519, EVP_PKEY_derive
//   HKDF-SHA256       EVP_KDF "HKDF"
//   HMAC-SHA256       EVP_MAC "HMAC"
//   ChaCha20-Poly1305 EVP_chacha20_poly1305 (ChunkCipher, Seal, Open)
//   randomness        RAND_bytes
//   base64            EVP_EncodeBlock / EVP_DecodeBlock, unpadded as age
//                     writes it (RFC 4648 standard alphabet, no '=')
//
// Errors from OpenSSL become Internal statuses; a failed authentication is
// reported as `false`, not as an error, so callers can tell "wrong key or
// damaged data" from "the library failed". Secret buffers are cleared with
// OPENSSL_cleanse when they die.
//
// Thread-compatible: free functions are thread-safe; a ChunkCipher is used
// by one thread at a time.
#ifndef DXBACKUP_SCHEDULER_CRYPTO_PRIMITIVES_H_
#define DXBACKUP_SCHEDULER_CRYPTO_PRIMITIVES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dxbackup::scheduler::crypto {

using Key32 = std::array<uint8_t, 32>;
inline constexpr size_t kTagSize = 16;    // Poly1305
inline constexpr size_t kNonceSize = 12;  // ChaCha20-Poly1305 (IETF)

// A 32-byte secret that is wiped when it is destroyed.
class SecretKey32 {
 public:
  SecretKey32();
  explicit SecretKey32(const uint8_t* bytes);
  SecretKey32(const SecretKey32& other);
  SecretKey32& operator=(const SecretKey32& other);
  ~SecretKey32();
  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }

 private:
  Key32 bytes_;
};

absl::Status RandomBytes(uint8_t* out, size_t size);

// X25519: the public key of a secret scalar (clamped by OpenSSL).
absl::StatusOr<Key32> X25519PublicKey(const SecretKey32& secret);
// A fresh key pair.
absl::Status X25519Generate(SecretKey32* secret, Key32* public_key);
// The shared secret; InvalidArgument if `their_public` is a low-order
// point (an all-zero result), which age rejects.
absl::StatusOr<SecretKey32> X25519SharedSecret(const SecretKey32& our_secret,
                                               const Key32& their_public);

// HKDF-SHA256 (RFC 5869), 32 bytes of output.
absl::StatusOr<SecretKey32> HkdfSha256(std::string_view ikm,
                                       std::string_view salt,
                                       std::string_view info);
// HMAC-SHA256.
absl::StatusOr<std::array<uint8_t, 32>> HmacSha256(const SecretKey32& key,
                                                   std::string_view data);

// One-shot ChaCha20-Poly1305 with no associated data: `out` gets
// size + kTagSize bytes (Seal) or size - kTagSize bytes (Open). Open
// returns false if the tag does not verify (`out` is then garbage).
absl::Status Seal(const SecretKey32& key, const uint8_t nonce[kNonceSize],
                  const uint8_t* in, size_t size, uint8_t* out);
absl::StatusOr<bool> Open(const SecretKey32& key,
                          const uint8_t nonce[kNonceSize], const uint8_t* in,
                          size_t size, uint8_t* out);

// ChaCha20-Poly1305 with one key and many nonces, keeping one OpenSSL
// context for the whole stream (no per-chunk allocation).
class ChunkCipher {
 public:
  explicit ChunkCipher(const SecretKey32& key);
  ~ChunkCipher();
  ChunkCipher(const ChunkCipher&) = delete;
  ChunkCipher& operator=(const ChunkCipher&) = delete;

  absl::Status Seal(const uint8_t nonce[kNonceSize], const uint8_t* in,
                    size_t size, uint8_t* out);
  absl::StatusOr<bool> Open(const uint8_t nonce[kNonceSize], const uint8_t* in,
                            size_t size, uint8_t* out);

 private:
  SecretKey32 key_;
  void* encrypt_ = nullptr;  // EVP_CIPHER_CTX*, key set once
  void* decrypt_ = nullptr;
};

// Unpadded standard base64, as in age headers. DecodeBase64 accepts only
// the canonical encoding (no '=', no whitespace, zero trailing bits), as
// age does; std::nullopt otherwise.
std::string EncodeBase64(const uint8_t* data, size_t size);
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_PRIMITIVES_H_
