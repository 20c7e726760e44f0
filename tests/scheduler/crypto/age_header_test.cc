// The age header's syntax: what we write parses back, body lines wrap at 64
// columns with a short last line, strictness where age is strict, and
// stanzas of unknown types (as other age implementations add) are skipped by
// us and by the stock tool alike.
#include "scheduler/crypto/age_header.h"

#include <gtest/gtest.h>

#include "scheduler/crypto/age_key_schedule.h"
#include "scheduler/crypto/x25519_stanza.h"
#include "tests/scheduler/crypto/age_test_util.h"
#include "tests/support/random_bytes.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler::crypto {
namespace {

std::string Whole(const std::vector<Stanza>& stanzas, const std::string& mac) {
  return EncodeHeaderForMac(stanzas) + EncodeMacLine(mac);
}

TEST(AgeHeaderTest, WhatWeWriteParsesBack) {
  for (size_t body_size : {0, 1, 47, 48, 49, 96, 100}) {
    SCOPED_TRACE(body_size);
    std::vector<Stanza> stanzas = {
        {"x-test", {"a", "b=c"}, testing::RandomBytes(body_size, 1)},
        {"X25519", {"share"}, testing::RandomBytes(32, 2)}};
    const std::string mac = testing::RandomBytes(32, 3);
    const std::string text = Whole(stanzas, mac);
    size_t scanned = 0;
    EXPECT_EQ(FindHeaderEnd(text + "payload", &scanned), text.size());
    absl::StatusOr<ParsedHeader> parsed = ParseHeader(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->stanzas.size(), 2u);
    EXPECT_EQ(parsed->stanzas[0].type, "x-test");
    EXPECT_EQ(parsed->stanzas[0].args, (std::vector<std::string>{"a", "b=c"}));
    EXPECT_EQ(parsed->stanzas[0].body, stanzas[0].body);
    EXPECT_EQ(parsed->stanzas[1].body, stanzas[1].body);
    EXPECT_EQ(parsed->mac, mac);
    EXPECT_EQ(parsed->mac_input, EncodeHeaderForMac(stanzas));
  }
}

TEST(AgeHeaderTest, BodiesWrapAt64ColumnsWithAShortLastLine) {
  // 48 bytes are exactly one full line, so an empty line must follow.
  const std::string text =
      EncodeHeaderForMac({{"x", {}, std::string(48, 'z')}});
  std::string full_line;
  for (int i = 0; i < 16; ++i) full_line += "enp6";  // base64 of "zzz"
  EXPECT_EQ(text,
            std::string(kAgeVersionLine) + "-> x\n" + full_line + "\n\n---");
}

TEST(AgeHeaderTest, FindsTheEndIncrementally) {
  const std::string text =
      Whole({{"X25519", {"s"}, std::string(32, 'k')}}, std::string(32, 'm'));
  size_t scanned = 0;
  for (size_t n = 0; n < text.size(); ++n) {
    EXPECT_EQ(FindHeaderEnd(text.substr(0, n), &scanned), 0u) << n;
  }
  EXPECT_EQ(FindHeaderEnd(text, &scanned), text.size());
}

TEST(AgeHeaderTest, RefusesWhatAgeRefuses) {
  const std::string good =
      Whole({{"X25519", {"s"}, std::string(32, 'k')}}, std::string(32, 'm'));
  ASSERT_TRUE(ParseHeader(good).ok());
  auto replaced = [&good](const std::string& from, const std::string& to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  const std::string body = EncodeBase64(
      reinterpret_cast<const uint8_t*>(std::string(32, 'k').data()), 32);
  for (const std::string& bad : {
           replaced("age-encryption.org/v1", "age-encryption.org/v2"),
           replaced("-> X25519 s", "->  X25519 s"),    // empty argument
           replaced("-> X25519 s", "-> X25519 s "),    // trailing space
           replaced("-> X25519 s", "->"),              // no type
           replaced("-> X25519 s", "-> X25519 \x01"),  // not VCHAR
           replaced(body, body + "="),                 // padding
           replaced(body, std::string(64, 'A')),       // no short last line
           replaced("---", "--- extra"),
           good.substr(0, good.size() - 2) + "\n",  // MAC too short
           good + "more",                           // after the end
       }) {
    absl::Status status = ParseHeader(bad).status();
    EXPECT_TRUE(absl::IsDataLoss(status)) << bad << "\n" << status;
  }
}

// A file whose header holds stanzas of unknown types, one with a multi-line
// body, around the X25519 one: built by hand from the library's parts.
std::string FileWithUnknownStanzas(const Recipient& recipient,
                                   const std::string& plaintext) {
  FileKey file_key;
  EXPECT_TRUE(RandomBytes(file_key.data(), kFileKeySize).ok());
  std::vector<Stanza> stanzas;
  stanzas.push_back({"x-grease", {"a", "b"}, testing::RandomBytes(100, 4)});
  stanzas.push_back(*WrapFileKey(file_key, recipient));
  stanzas.push_back({"x-other", {"q"}, testing::RandomBytes(48, 5)});
  std::string file = EncodeHeaderForMac(stanzas);
  const std::array<uint8_t, 32> mac = *HeaderMac(file_key, file);
  file += EncodeMacLine(
      std::string_view(reinterpret_cast<const char*>(mac.data()), 32));
  uint8_t nonce[kPayloadNonceSize];
  EXPECT_TRUE(RandomBytes(nonce, sizeof(nonce)).ok());
  file.append(reinterpret_cast<const char*>(nonce), sizeof(nonce));
  ChunkCipher cipher(*PayloadKey(file_key, nonce));
  uint8_t chunk_nonce[kNonceSize];
  ChunkNonce(0, true, chunk_nonce);
  std::string sealed(plaintext.size() + kTagSize, '\0');
  EXPECT_TRUE(
      cipher
          .Seal(chunk_nonce, reinterpret_cast<const uint8_t*>(plaintext.data()),
                plaintext.size(), reinterpret_cast<uint8_t*>(sealed.data()))
          .ok());
  return file + sealed;
}

TEST(AgeHeaderTest, UnknownStanzasAreSkippedByUsAndByStockAge) {
  testing::TempDir dir;
  const testing::StockKey key = testing::MakeStockKey(dir / "key.txt");
  ASSERT_FALSE(key.public_key.empty());
  const std::string plaintext = "with grease";
  const std::string file =
      FileWithUnknownStanzas(*Recipient::Parse(key.public_key), plaintext);
  testing::WriteFile(dir / "file.age", file);
  std::string output;
  ASSERT_EQ(testing::RunCommand({"age", "-d", "-i", key.path, "-o", dir / "out",
                                 dir / "file.age"},
                                &output),
            0)
      << output;
  EXPECT_EQ(testing::ReadFile(dir / "out"), plaintext);
  absl::StatusOr<std::string> ours =
      testing::AgeDecrypt(*LoadIdentities(key.path), file);
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_EQ(*ours, plaintext);
}

}  // namespace
}  // namespace dxbackup::scheduler::crypto
