#include "scheduler/crypto/primitives.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct KdfFree {
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
struct MacFree {
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

absl::Status OpenSslError(const char* what) {
  return absl::InternalError(absl::StrCat("OpenSSL: ", what, " failed"));
}

// ChaCha20-Poly1305, fetched once from the default provider.
const EVP_CIPHER* ChaCha20Poly1305() {
  static EVP_CIPHER* const cipher =
      EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  return cipher;
}

EVP_CIPHER_CTX* NewCipherContext(const SecretKey32& key, int encrypt) {
  if (ChaCha20Poly1305() == nullptr) return nullptr;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx != nullptr && EVP_CipherInit_ex2(ctx, ChaCha20Poly1305(), key.data(),
                                           nullptr, encrypt, nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

absl::Status SealWith(EVP_CIPHER_CTX* ctx, const uint8_t* nonce,
                      const uint8_t* in, size_t size, uint8_t* out) {
  if (ctx == nullptr) return OpenSslError("ChaCha20-Poly1305 setup");
  int len = 0, final_len = 0;
  if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce, 1, nullptr) != 1 ||
      (size > 0 &&
       EVP_CipherUpdate(ctx, out, &len, in, static_cast<int>(size)) != 1) ||
      EVP_CipherFinal_ex(ctx, out + len, &final_len) != 1 ||
      static_cast<size_t>(len + final_len) != size ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize, out + size) !=
          1) {
    return OpenSslError("ChaCha20-Poly1305 encryption");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> OpenWith(EVP_CIPHER_CTX* ctx, const uint8_t* nonce,
                              const uint8_t* in, size_t size, uint8_t* out) {
  if (ctx == nullptr) return OpenSslError("ChaCha20-Poly1305 setup");
  if (size < kTagSize) return false;
  const size_t text = size - kTagSize;
  uint8_t tag[kTagSize];
  std::memcpy(tag, in + text, kTagSize);
  int len = 0, final_len = 0;
  if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce, 0, nullptr) != 1 ||
      (text > 0 &&
       EVP_CipherUpdate(ctx, out, &len, in, static_cast<int>(text)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagSize, tag) != 1) {
    return OpenSslError("ChaCha20-Poly1305 decryption");
  }
  // Final fails exactly when the tag does not verify.
  return EVP_CipherFinal_ex(ctx, out + len, &final_len) == 1 &&
         static_cast<size_t>(len + final_len) == text;
}

Pkey X25519FromSecret(const SecretKey32& secret) {
  return Pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr,
                                           secret.data(), 32));
}

}  // namespace

SecretKey32::SecretKey32() { bytes_.fill(0); }
SecretKey32::SecretKey32(const uint8_t* bytes) {
  std::memcpy(bytes_.data(), bytes, 32);
}
SecretKey32::SecretKey32(const SecretKey32& other) : bytes_(other.bytes_) {}
SecretKey32& SecretKey32::operator=(const SecretKey32& other) {
  bytes_ = other.bytes_;
  return *this;
}
SecretKey32::~SecretKey32() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

absl::Status RandomBytes(uint8_t* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    return OpenSslError("RAND_bytes");
  }
  return absl::OkStatus();
}

absl::StatusOr<Key32> X25519PublicKey(const SecretKey32& secret) {
  Pkey key = X25519FromSecret(secret);
  Key32 public_key;
  size_t len = public_key.size();
  if (!key ||
      EVP_PKEY_get_raw_public_key(key.get(), public_key.data(), &len) != 1 ||
      len != public_key.size()) {
    return OpenSslError("X25519 public key");
  }
  return public_key;
}

absl::Status X25519Generate(SecretKey32* secret, Key32* public_key) {
  if (absl::Status s = RandomBytes(secret->data(), 32); !s.ok()) return s;
  absl::StatusOr<Key32> derived = X25519PublicKey(*secret);
  if (!derived.ok()) return derived.status();
  *public_key = *derived;
  return absl::OkStatus();
}

absl::StatusOr<SecretKey32> X25519SharedSecret(const SecretKey32& our_secret,
                                               const Key32& their_public) {
  Pkey ours = X25519FromSecret(our_secret);
  Pkey theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr,
                                          their_public.data(), 32));
  if (!ours || !theirs) return OpenSslError("X25519 key import");
  PkeyCtx ctx(EVP_PKEY_CTX_new(ours.get(), nullptr));
  SecretKey32 shared;
  size_t len = 32;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1) {
    return OpenSslError("X25519 setup");
  }
  // OpenSSL refuses to derive an all-zero secret (a low-order point).
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != 32) {
    return absl::InvalidArgumentError(
        "X25519: the peer's share is a low-order point");
  }
  uint8_t any = 0;
  for (int i = 0; i < 32; ++i) any |= shared.data()[i];
  if (any == 0) {
    return absl::InvalidArgumentError(
        "X25519: the peer's share is a low-order point");
  }
  return shared;
}

absl::StatusOr<SecretKey32> HkdfSha256(std::string_view ikm,
                                       std::string_view salt,
                                       std::string_view info) {
  std::unique_ptr<EVP_KDF, KdfFree> kdf(
      EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr));
  if (!kdf) return OpenSslError("HKDF fetch");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return OpenSslError("HKDF context");
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  int n = 0;
  params[n++] =
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()), ikm.size());
  // An empty salt is HKDF's default (a block of zeros), as in Go's hkdf.
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size());
  }
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
  params[n] = OSSL_PARAM_construct_end();
  SecretKey32 out;
  if (EVP_KDF_derive(ctx.get(), out.data(), 32, params) != 1) {
    return OpenSslError("HKDF");
  }
  return out;
}

absl::StatusOr<std::array<uint8_t, 32>> HmacSha256(const SecretKey32& key,
                                                   std::string_view data) {
  std::unique_ptr<EVP_MAC, MacFree> mac(
      EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
  if (!mac) return OpenSslError("HMAC fetch");
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac.get()));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  std::array<uint8_t, 32> out;
  size_t len = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), 32, params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const uint8_t*>(data.data()),
                     data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 ||
      len != out.size()) {
    return OpenSslError("HMAC-SHA256");
  }
  return out;
}

absl::Status Seal(const SecretKey32& key, const uint8_t nonce[kNonceSize],
                  const uint8_t* in, size_t size, uint8_t* out) {
  CipherCtx ctx(NewCipherContext(key, 1));
  return SealWith(ctx.get(), nonce, in, size, out);
}

absl::StatusOr<bool> Open(const SecretKey32& key,
                          const uint8_t nonce[kNonceSize], const uint8_t* in,
                          size_t size, uint8_t* out) {
  CipherCtx ctx(NewCipherContext(key, 0));
  return OpenWith(ctx.get(), nonce, in, size, out);
}

ChunkCipher::ChunkCipher(const SecretKey32& key) : key_(key) {}

ChunkCipher::~ChunkCipher() {
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(encrypt_));
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(decrypt_));
}

absl::Status ChunkCipher::Seal(const uint8_t nonce[kNonceSize],
                               const uint8_t* in, size_t size, uint8_t* out) {
  if (encrypt_ == nullptr) encrypt_ = NewCipherContext(key_, 1);
  return SealWith(static_cast<EVP_CIPHER_CTX*>(encrypt_), nonce, in, size, out);
}

absl::StatusOr<bool> ChunkCipher::Open(const uint8_t nonce[kNonceSize],
                                       const uint8_t* in, size_t size,
                                       uint8_t* out) {
  if (decrypt_ == nullptr) decrypt_ = NewCipherContext(key_, 0);
  return OpenWith(static_cast<EVP_CIPHER_CTX*>(decrypt_), nonce, in, size, out);
}

std::string EncodeBase64(const uint8_t* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                data, static_cast<int>(size));
  out.resize(n);
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) return std::nullopt;
  }
  std::string padded(text);
  const size_t padding = (4 - text.size() % 4) % 4;
  padded.append(padding, '=');
  std::string out(padded.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(padded.data()),
                      static_cast<int>(padded.size()));
  // EVP_DecodeBlock counts the padding as zero bytes of output.
  if (n < 0 || static_cast<size_t>(n) != out.size()) return std::nullopt;
  out.resize(out.size() - padding);
  // Canonical only: the unused low bits of the last character must be zero.
  if (EncodeBase64(reinterpret_cast<const uint8_t*>(out.data()), out.size()) !=
      text) {
    return std::nullopt;
  }
  return out;
}

}  // namespace dxbackup::scheduler::crypto
