// age's X25519 recipient stanza (https://age-encryption.org/v1, "The X25519
// recipient type"):
//
//   -> X25519 base64(ephemeral share E)
//   base64(ChaCha20-Poly1305(wrap key, nonce 0, file key))
//
// where wrap key = HKDF-SHA256(ikm = X25519(e, R), salt = E || R,
// info = "age-encryption.org/v1/X25519") and R is the recipient.
//
// Thread-safe (pure functions).
#ifndef DXBACKUP_SCHEDULER_CRYPTO_X25519_STANZA_H_
#define DXBACKUP_SCHEDULER_CRYPTO_X25519_STANZA_H_

#include <optional>

#include "absl/status/statusor.h"
#include "scheduler/crypto/age_header.h"
#include "scheduler/crypto/age_key_schedule.h"
#include "scheduler/crypto/age_keys.h"

namespace dxbackup::scheduler::crypto {

inline constexpr std::string_view kX25519StanzaType = "X25519";

// Wraps `file_key` for `recipient` with a fresh ephemeral key.
absl::StatusOr<Stanza> WrapFileKey(const FileKey& file_key,
                                   const Recipient& recipient);

// The file key if `identity` unwraps this X25519 stanza; std::nullopt if it
// is for someone else (or was altered: age cannot tell those apart);
// DataLoss if the stanza is malformed (wrong argument count or sizes, a
// low-order share), as age refuses such a file whatever the key.
absl::StatusOr<std::optional<FileKey>> UnwrapFileKey(const Stanza& stanza,
                                                     const Identity& identity);

// DataLoss unless `stanza` is a well-formed X25519 stanza.
absl::Status CheckX25519Stanza(const Stanza& stanza);

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_X25519_STANZA_H_
