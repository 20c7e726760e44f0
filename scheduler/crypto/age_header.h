// The text of an age v1 header (https://age-encryption.org/v1, "Header"):
//
//   age-encryption.org/v1
//   -> X25519 <base64 ephemeral share>
//   <base64 body, 64 columns a line, ending with a line shorter than 64>
//   --- <base64 HMAC-SHA256 of everything up to and including "---">
//
// Base64 is unpadded and canonical. This file only reads and writes that
// syntax; what the stanzas and the MAC mean is age_key_schedule.h's and
// x25519_stanza.h's. Parsing is strict, as age's own: anything else is
// DataLoss (an artifact that claims to be age and is not well formed).
//
// Thread-safe (pure functions).
#ifndef DXBACKUP_SCHEDULER_CRYPTO_AGE_HEADER_H_
#define DXBACKUP_SCHEDULER_CRYPTO_AGE_HEADER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dxbackup::scheduler::crypto {

inline constexpr std::string_view kAgeVersionLine = "age-encryption.org/v1\n";
// A header this long without its "---" line is refused, to bound memory
// (about 600 X25519 stanzas fit).
inline constexpr size_t kMaxHeaderSize = 64 * 1024;

struct Stanza {
  std::string type;               // "X25519", or another type, ignored
  std::vector<std::string> args;  // after the type
  std::string body;               // decoded bytes
};

// The header up to and including "---" (the MAC's input), and the closing
// line " <mac>\n" that completes it.
std::string EncodeHeaderForMac(const std::vector<Stanza>& stanzas);
std::string EncodeMacLine(std::string_view mac);

struct ParsedHeader {
  std::vector<Stanza> stanzas;
  std::string mac_input;  // the bytes the MAC covers
  std::string mac;        // 32 bytes
};

// The length of the header at the start of `data` (through the "---" line's
// newline), or 0 if `data` does not hold all of it yet. `*scanned` is where
// to resume (a line start; 0 the first time) and is advanced past the
// complete lines seen, so that feeding a growing buffer costs O(size).
size_t FindHeaderEnd(std::string_view data, size_t* scanned);

// Parses a whole header (`text` as delimited by FindHeaderEnd).
absl::StatusOr<ParsedHeader> ParseHeader(std::string_view text);

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_AGE_HEADER_H_
