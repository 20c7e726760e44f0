// Bech32 (BIP-173) encoding, as age uses it for its keys: public keys are
// "age1…" (HRP "age"), identities "AGE-SECRET-KEY-1…" (HRP
// "age-secret-key-", written upper case).
//
// Hand-written because no Debian 12 package ships a C or C++ bech32
// library and OpenSSL has none; it is not a cryptographic primitive (a
// BCH checksum over 5-bit groups), and it is tested against BIP-173's
// vectors and keys made by age-keygen. Like age, it uses the original
// Bech32 constant (not Bech32m) and lifts BIP-173's 90-character limit.
//
// Thread-safe (pure functions).
#ifndef DXBACKUP_SCHEDULER_CRYPTO_BECH32_H_
#define DXBACKUP_SCHEDULER_CRYPTO_BECH32_H_

#include <optional>
#include <string>
#include <string_view>

namespace dxbackup::scheduler::crypto {

struct Bech32Data {
  std::string hrp;    // human-readable part, lower case
  std::string bytes;  // the data part as 8-bit bytes
};

// Encodes `bytes` under `hrp` (printable ASCII, no upper case), in lower
// case; "" if the HRP is not valid.
std::string Bech32Encode(std::string_view hrp, std::string_view bytes);

// Decodes a Bech32 string, all lower or all upper case. std::nullopt on any
// defect: mixed case, a character outside the alphabet, no separator, an
// empty HRP, a data part shorter than the checksum, a bad checksum, or
// non-zero padding bits in the 5-to-8-bit conversion.
std::optional<Bech32Data> Bech32Decode(std::string_view text);

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_BECH32_H_
