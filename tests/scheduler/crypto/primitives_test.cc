// The OpenSSL wrappers against published vectors: base64 as age writes it
// (unpadded, canonical only), HKDF-SHA256 (RFC 5869), ChaCha20-Poly1305
// (RFC 8439 §2.8.2).
#include "scheduler/crypto/primitives.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"

namespace dxbackup::scheduler::crypto {
namespace {

std::string Hex(const uint8_t* data, size_t size) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(data), size));
}

TEST(Base64Test, IsUnpaddedAndCanonical) {
  const std::string bytes = "\xff\xfe\x01";
  for (size_t n = 0; n <= 3; ++n) {
    const std::string encoded =
        EncodeBase64(reinterpret_cast<const uint8_t*>(bytes.data()), n);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    EXPECT_EQ(DecodeBase64(encoded), bytes.substr(0, n));
  }
  EXPECT_EQ(EncodeBase64(reinterpret_cast<const uint8_t*>("ab"), 2), "YWI");
  EXPECT_EQ(DecodeBase64("YWI"), "ab");
  EXPECT_EQ(DecodeBase64(""), "");
  EXPECT_FALSE(DecodeBase64("YWI="));  // padding
  EXPECT_FALSE(DecodeBase64("YWJ"));   // non-zero trailing bits
  EXPECT_FALSE(DecodeBase64("Y"));     // impossible length
  EXPECT_FALSE(DecodeBase64("YW I"));  // whitespace
  EXPECT_FALSE(DecodeBase64("YW-_"));  // URL alphabet
}

TEST(HkdfTest, MatchesRfc5869TestCase1) {
  const std::string ikm(22, '\x0b');
  const std::string salt = absl::HexStringToBytes("000102030405060708090a0b0c");
  const std::string info = absl::HexStringToBytes("f0f1f2f3f4f5f6f7f8f9");
  absl::StatusOr<SecretKey32> okm = HkdfSha256(ikm, salt, info);
  ASSERT_TRUE(okm.ok());
  // The first 32 of the RFC's 42 bytes.
  EXPECT_EQ(Hex(okm->data(), 32),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
}

TEST(ChaCha20Poly1305Test, MatchesRfc8439WithoutAad) {
  // RFC 8439 §2.8.2 uses AAD, which age does not; check the round trip and
  // that every altered byte fails instead.
  uint8_t key_bytes[32];
  for (int i = 0; i < 32; ++i) key_bytes[i] = static_cast<uint8_t>(0x80 + i);
  const SecretKey32 key(key_bytes);
  const uint8_t nonce[kNonceSize] = {7,    0,    0,    0,    0x40, 0x41,
                                     0x42, 0x43, 0x44, 0x45, 0x46, 0x47};
  const std::string plaintext = "Ladies and Gentlemen of the class of '99";
  std::string sealed(plaintext.size() + kTagSize, '\0');
  ChunkCipher cipher(key);
  ASSERT_TRUE(
      cipher
          .Seal(nonce, reinterpret_cast<const uint8_t*>(plaintext.data()),
                plaintext.size(), reinterpret_cast<uint8_t*>(sealed.data()))
          .ok());
  // The ciphertext (without AAD only the tag differs from the RFC's).
  EXPECT_EQ(absl::BytesToHexString(sealed.substr(0, 16)),
            "d31a8d34648e60db7b86afbc53ef7ec2");
  std::string opened(plaintext.size(), '\0');
  for (size_t i = 0; i <= sealed.size(); ++i) {
    std::string altered = sealed;
    if (i < sealed.size()) altered[i] ^= 1;
    absl::StatusOr<bool> ok =
        cipher.Open(nonce, reinterpret_cast<const uint8_t*>(altered.data()),
                    altered.size(), reinterpret_cast<uint8_t*>(opened.data()));
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(*ok, i == sealed.size()) << i;
  }
  EXPECT_EQ(opened, plaintext);
}

}  // namespace
}  // namespace dxbackup::scheduler::crypto
