// Bech32 against BIP-173's test vectors.
#include "scheduler/crypto/bech32.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dxbackup::scheduler::crypto {
namespace {

TEST(Bech32Test, AcceptsBip173ValidChecksums) {
  for (const char* valid : {
           "A12UEL5L",
           "a12uel5l",
           "an83characterlonghumanreadablepartthatcontainsthenumber1andtheex"
           "cludedcharactersbio1tt5tgs",
           "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
           "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
           "qqqqqqqqqqqqqqqqqc8247j",
           "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
           "?1ezyfcl",
       }) {
    EXPECT_TRUE(Bech32Decode(valid).has_value()) << valid;
  }
}

TEST(Bech32Test, RejectsBip173InvalidStrings) {
  for (const char* invalid : {
           "\x20"
           "1nwldj5",  // HRP character out of range
           "\x7f"
           "1axkwrx",
           "pzry9x0s0muk",   // no separator
           "1pzry9x0s0muk",  // empty HRP
           "x1b4n0q5v",      // invalid data character
           "li1dgmt3",       // checksum too short
           "de1lg7wt\xff",   // invalid character in checksum
           "A1G7SGD8",       // checksum made with an upper-case HRP
           "10a06t8",        // empty HRP
           "1qzzfhee",       // empty HRP
           "A12uEL5L",       // mixed case
       }) {
    EXPECT_FALSE(Bech32Decode(invalid).has_value()) << invalid;
  }
}

TEST(Bech32Test, DecodesToTheHrpAndBytes) {
  // BIP-173's P2WPKH example: witness version 0 (first 5-bit group), then
  // the 20-byte program, regrouped. Here: a data part of whole bytes.
  const std::string bytes = "\x00\x01\x02\xfe\xff hello";
  const std::string encoded = Bech32Encode("test", bytes);
  ASSERT_FALSE(encoded.empty());
  std::optional<Bech32Data> decoded = Bech32Decode(encoded);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->hrp, "test");
  EXPECT_EQ(decoded->bytes, bytes);
}

TEST(Bech32Test, UpperCaseDecodesLikeLowerCase) {
  const std::string encoded = Bech32Encode("age-secret-key-", "0123456789");
  std::string upper = encoded;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  std::optional<Bech32Data> decoded = Bech32Decode(upper);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->hrp, "age-secret-key-");
  EXPECT_EQ(decoded->bytes, "0123456789");
}

TEST(Bech32Test, RejectsEveryAlteredCharacter) {
  const std::string encoded = Bech32Encode("age", std::string(32, '\x5a'));
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '1') continue;  // the separator
    std::string altered = encoded;
    altered[i] = altered[i] == 'q' ? 'p' : 'q';
    EXPECT_FALSE(Bech32Decode(altered).has_value()) << "position " << i;
  }
}

// A Bech32 string from raw 5-bit groups with a correct checksum, computed
// here independently (BIP-173's reference polymod), to build strings the
// encoder never makes.
std::string EncodeGroups(const std::string& hrp, std::vector<int> groups) {
  const uint32_t generator[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                 0x2a1462b3};
  std::vector<int> values;
  for (char c : hrp) values.push_back(c >> 5);
  values.push_back(0);
  for (char c : hrp) values.push_back(c & 31);
  values.insert(values.end(), groups.begin(), groups.end());
  values.insert(values.end(), 6, 0);
  uint32_t chk = 1;
  for (int v : values) {
    const uint32_t top = chk >> 25;
    chk = (chk & 0x1ffffff) << 5 ^ v;
    for (int i = 0; i < 5; ++i) chk ^= ((top >> i) & 1) ? generator[i] : 0;
  }
  chk ^= 1;
  for (int i = 0; i < 6; ++i) groups.push_back((chk >> (5 * (5 - i))) & 31);
  std::string out = hrp + "1";
  for (int g : groups) out += "qpzry9x8gf2tvdw0s3jn54khce6mua7l"[g];
  return out;
}

TEST(Bech32Test, TheIndependentChecksumAgreesWithTheEncoder) {
  // One byte 0x00 is the groups {0, 0} (two bits of padding).
  EXPECT_EQ(EncodeGroups("a", {0, 0}), Bech32Encode("a", std::string(1, '\0')));
}

TEST(Bech32Test, RejectsNonZeroPadding) {
  // 0x00 then a padding bit set: a valid checksum, an invalid conversion.
  EXPECT_FALSE(Bech32Decode(EncodeGroups("a", {0, 1})).has_value());
  // Five bits of padding: more than a byte's worth of leftover.
  EXPECT_FALSE(Bech32Decode(EncodeGroups("a", {0, 0, 0})).has_value());
  EXPECT_TRUE(Bech32Decode(EncodeGroups("a", {0, 0})).has_value());
}

TEST(Bech32Test, RejectsAnInvalidHrpForEncoding) {
  EXPECT_EQ(Bech32Encode("", "x"), "");
  EXPECT_EQ(Bech32Encode("Age", "x"), "");
}

}  // namespace
}  // namespace dxbackup::scheduler::crypto
