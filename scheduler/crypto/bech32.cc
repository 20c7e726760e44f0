#include "scheduler/crypto/bech32.h"

#include <cstdint>
#include <vector>

namespace dxbackup::scheduler::crypto {
namespace {

constexpr char kCharset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr size_t kChecksumLength = 6;

int CharsetIndex(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kCharset[i] == c) return i;
  }
  return -1;
}

uint32_t Polymod(const std::vector<uint8_t>& values) {
  static constexpr uint32_t kGenerator[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
                                             0x3d4233dd, 0x2a1462b3};
  uint32_t checksum = 1;
  for (uint8_t value : values) {
    const uint32_t top = checksum >> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) checksum ^= kGenerator[i];
    }
  }
  return checksum;
}

std::vector<uint8_t> ExpandHrp(std::string_view hrp) {
  std::vector<uint8_t> out;
  out.reserve(hrp.size() * 2 + 1);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) >> 5);
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) & 31);
  return out;
}

bool ValidHrp(std::string_view hrp) {
  if (hrp.empty()) return false;
  for (char c : hrp) {
    if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z')) return false;
  }
  return true;
}

// Regroups bits: 8-bit bytes to 5-bit groups (padding the last) or back
// (where padding must be under 5 bits and zero).
std::optional<std::vector<uint8_t>> ConvertBits(const uint8_t* in, size_t size,
                                                int from, int to, bool pad) {
  uint32_t accumulator = 0;
  int bits = 0;
  const uint32_t max = (1u << to) - 1;
  std::vector<uint8_t> out;
  out.reserve(size * from / to + 1);
  for (size_t i = 0; i < size; ++i) {
    accumulator = (accumulator << from) | in[i];
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push_back((accumulator >> bits) & max);
    }
  }
  if (pad) {
    if (bits > 0) out.push_back((accumulator << (to - bits)) & max);
  } else if (bits >= from || ((accumulator << (to - bits)) & max) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string Bech32Encode(std::string_view hrp, std::string_view bytes) {
  if (!ValidHrp(hrp)) return "";
  std::vector<uint8_t> data =
      *ConvertBits(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                   8, 5, /*pad=*/true);
  std::vector<uint8_t> values = ExpandHrp(hrp);
  values.insert(values.end(), data.begin(), data.end());
  values.insert(values.end(), kChecksumLength, 0);
  const uint32_t checksum = Polymod(values) ^ 1;
  std::string out(hrp);
  out += '1';
  for (uint8_t d : data) out += kCharset[d];
  for (size_t i = 0; i < kChecksumLength; ++i) {
    out += kCharset[(checksum >> (5 * (kChecksumLength - 1 - i))) & 31];
  }
  return out;
}

std::optional<Bech32Data> Bech32Decode(std::string_view text) {
  bool lower = false, upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) return std::nullopt;
    if (c >= 'a' && c <= 'z') lower = true;
    if (c >= 'A' && c <= 'Z') upper = true;
  }
  if (lower && upper) return std::nullopt;
  std::string folded(text);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const size_t separator = folded.rfind('1');
  if (separator == std::string::npos || separator == 0 ||
      folded.size() - separator - 1 < kChecksumLength) {
    return std::nullopt;
  }
  const std::string hrp = folded.substr(0, separator);
  std::vector<uint8_t> data;
  for (size_t i = separator + 1; i < folded.size(); ++i) {
    const int index = CharsetIndex(folded[i]);
    if (index < 0) return std::nullopt;
    data.push_back(static_cast<uint8_t>(index));
  }
  std::vector<uint8_t> values = ExpandHrp(hrp);
  values.insert(values.end(), data.begin(), data.end());
  if (Polymod(values) != 1) return std::nullopt;
  data.resize(data.size() - kChecksumLength);
  std::optional<std::vector<uint8_t>> bytes =
      ConvertBits(data.data(), data.size(), 5, 8, /*pad=*/false);
  if (!bytes) return std::nullopt;
  return Bech32Data{hrp, std::string(bytes->begin(), bytes->end())};
}

}  // namespace dxbackup::scheduler::crypto
