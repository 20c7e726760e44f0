// The streams' contracts beyond interoperability: any split of the input
// gives the same result; a wrong key, a damaged, cut or extended artifact
// is an error, never wrong plaintext; memory stays bounded.
#include <gtest/gtest.h>

#include <random>

#include "scheduler/crypto/age_decryptor.h"
#include "scheduler/crypto/age_encryptor.h"
#include "tests/scheduler/crypto/age_test_util.h"
#include "tests/support/random_bytes.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler::crypto {
namespace {

using testing::AgeDecrypt;
using testing::AgeEncrypt;
using testing::TempDir;
using testing::WriteFile;

class AgeStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Identity> identity = Identity::Generate();
    ASSERT_TRUE(identity.ok());
    WriteFile(dir_ / "key.txt", identity->SecretKeyString() + "\n");
    absl::StatusOr<std::vector<Identity>> identities =
        LoadIdentities(dir_ / "key.txt");
    ASSERT_TRUE(identities.ok()) << identities.status();
    identities_ = *identities;
    recipients_ = {identity->recipient()};
  }

  // Where the payload (after the header and its nonce) starts.
  static size_t PayloadStart(const std::string& ciphertext) {
    const size_t closing = ciphertext.find("\n---");
    return ciphertext.find('\n', closing + 1) + 1 + kPayloadNonceSize;
  }

  absl::Status DecryptStatus(const std::string& ciphertext) {
    return AgeDecrypt(identities_, ciphertext).status();
  }

  TempDir dir_;
  std::vector<Identity> identities_;
  std::vector<Recipient> recipients_;
};

TEST_F(AgeStreamTest, AnySplitOfTheInputGivesTheSamePlaintext) {
  std::mt19937 rng(42);
  for (size_t size : {size_t{0}, size_t{65536}, size_t{300000}}) {
    const std::string plaintext = testing::RandomBytes(size, 3);
    for (int round = 0; round < 4; ++round) {
      // Random writes, empty ones included, on both sides.
      std::string ciphertext;
      auto encryptor =
          Encryptor::Create(recipients_, [&](const char* d, size_t n) {
            ciphertext.append(d, n);
            return absl::OkStatus();
          });
      ASSERT_TRUE(encryptor.ok());
      for (size_t i = 0; i < size;) {
        const size_t n = std::min<size_t>(rng() % 150000, size - i);
        ASSERT_TRUE((*encryptor)->Write(plaintext.data() + i, n).ok());
        i += n;
      }
      ASSERT_TRUE((*encryptor)->Finish().ok());
      std::string decrypted;
      auto decryptor =
          Decryptor::Create(identities_, [&](const char* d, size_t n) {
            decrypted.append(d, n);
            return absl::OkStatus();
          });
      ASSERT_TRUE(decryptor.ok());
      for (size_t i = 0; i < ciphertext.size();) {
        const size_t n =
            std::min<size_t>(rng() % 150000, ciphertext.size() - i);
        ASSERT_TRUE((*decryptor)->Write(ciphertext.data() + i, n).ok());
        i += n;
      }
      ASSERT_TRUE((*decryptor)->Finish().ok());
      EXPECT_TRUE(decrypted == plaintext) << size;
    }
  }
}

TEST_F(AgeStreamTest, AByteAtATimeWorksToo) {
  const std::string plaintext = testing::RandomBytes(70000, 4);
  absl::StatusOr<std::string> ciphertext =
      AgeEncrypt(recipients_, plaintext, 1);
  ASSERT_TRUE(ciphertext.ok());
  absl::StatusOr<std::string> decrypted =
      AgeDecrypt(identities_, *ciphertext, 1);
  ASSERT_TRUE(decrypted.ok()) << decrypted.status();
  EXPECT_TRUE(*decrypted == plaintext);
}

TEST_F(AgeStreamTest, AWrongIdentityIsAClearError) {
  absl::StatusOr<std::string> ciphertext = AgeEncrypt(recipients_, "secret");
  ASSERT_TRUE(ciphertext.ok());
  absl::StatusOr<Identity> other = Identity::Generate();
  ASSERT_TRUE(other.ok());
  WriteFile(dir_ / "other.txt", other->SecretKeyString() + "\n" +
                                    Identity::Generate()->SecretKeyString() +
                                    "\n");
  absl::StatusOr<std::vector<Identity>> others =
      LoadIdentities(dir_ / "other.txt");
  ASSERT_TRUE(others.ok());
  absl::Status status = AgeDecrypt(*others, *ciphertext).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_NE(status.message().find("none of the 2 identities in " +
                                  dir_ / "other.txt" + " decrypts it"),
            std::string::npos)
      << status;
  EXPECT_EQ(std::string(status.message()).find("AGE-SECRET-KEY"),
            std::string::npos);
}

TEST_F(AgeStreamTest, EveryAlteredHeaderByteIsRefused) {
  absl::StatusOr<std::string> ciphertext =
      AgeEncrypt(recipients_, testing::RandomBytes(1000, 5));
  ASSERT_TRUE(ciphertext.ok());
  const size_t header_end = PayloadStart(*ciphertext) - kPayloadNonceSize;
  const size_t mac_start = ciphertext->find("\n--- ") + 5;
  for (size_t i = 0; i < header_end; ++i) {
    std::string altered = *ciphertext;
    altered[i] ^= 0x01;
    absl::Status status = DecryptStatus(altered);
    // An altered stanza cannot be told from one for another key, nor an
    // altered stanza type from another recipient type.
    EXPECT_TRUE(absl::IsDataLoss(status) || absl::IsPermissionDenied(status) ||
                absl::IsFailedPrecondition(status))
        << "byte " << i << ": " << status;
    if (i >= mac_start && i < header_end - 1) {
      EXPECT_TRUE(absl::IsDataLoss(status)) << "MAC byte " << i << status;
    }
  }
}

TEST_F(AgeStreamTest, AnAlteredHeaderFailsTheMac) {
  // Two stanzas: alter the stranger's; ours still unwraps the file key, and
  // the header MAC catches the change.
  absl::StatusOr<Identity> stranger = Identity::Generate();
  ASSERT_TRUE(stranger.ok());
  absl::StatusOr<std::string> ciphertext =
      AgeEncrypt({stranger->recipient(), recipients_[0]}, "payload");
  ASSERT_TRUE(ciphertext.ok());
  const size_t share = ciphertext->find("-> X25519 ") + 10 + 5;
  std::string altered = *ciphertext;
  altered[share] = altered[share] == 'A' ? 'B' : 'A';
  absl::Status status = DecryptStatus(altered);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_NE(status.message().find("MAC"), std::string::npos) << status;
}

TEST_F(AgeStreamTest, AlteredPayloadIsDataLoss) {
  absl::StatusOr<std::string> ciphertext =
      AgeEncrypt(recipients_, testing::RandomBytes(3 * 65536 + 100, 6));
  ASSERT_TRUE(ciphertext.ok());
  const size_t payload = PayloadStart(*ciphertext);
  for (size_t at : {payload - kPayloadNonceSize,     // the payload nonce
                    payload,                         // chunk 0
                    payload + kSealedChunkSize - 1,  // chunk 0's tag
                    payload + 2 * kSealedChunkSize + 7,
                    ciphertext->size() - 1}) {  // the final chunk's tag
    std::string altered = *ciphertext;
    altered[at] ^= 0x80;
    absl::Status status = DecryptStatus(altered);
    EXPECT_TRUE(absl::IsDataLoss(status)) << "byte " << at << ": " << status;
  }
}

TEST_F(AgeStreamTest, ACutArtifactIsDataLoss) {
  absl::StatusOr<std::string> ciphertext =
      AgeEncrypt(recipients_, testing::RandomBytes(3 * 65536, 7));
  ASSERT_TRUE(ciphertext.ok());
  const size_t payload = PayloadStart(*ciphertext);
  ASSERT_EQ(ciphertext->size(), payload + 3 * kSealedChunkSize);
  for (size_t cut :
       {size_t{0}, size_t{10}, payload - kPayloadNonceSize, payload - 1,
        payload,                     // no chunk at all
        payload + kSealedChunkSize,  // chunk boundaries
        payload + 2 * kSealedChunkSize,
        payload + 5,  // mid-chunk
        payload + kSealedChunkSize + 100, ciphertext->size() - 1}) {
    absl::Status status = DecryptStatus(ciphertext->substr(0, cut));
    EXPECT_TRUE(absl::IsDataLoss(status)) << "cut at " << cut << ": " << status;
  }
  absl::Status status =
      DecryptStatus(ciphertext->substr(0, payload + 2 * kSealedChunkSize));
  EXPECT_NE(status.message().find("chunk boundary"), std::string::npos)
      << status;
}

TEST_F(AgeStreamTest, BytesAfterTheFinalChunkAreAnError) {
  for (size_t size : {size_t{0}, size_t{100}, size_t{65536}}) {
    absl::StatusOr<std::string> ciphertext =
        AgeEncrypt(recipients_, testing::RandomBytes(size, 8));
    ASSERT_TRUE(ciphertext.ok());
    for (const std::string& garbage :
         {std::string("\n"), std::string(100, 'x'), std::string(70000, 'y')}) {
      absl::Status status = DecryptStatus(*ciphertext + garbage);
      EXPECT_TRUE(absl::IsDataLoss(status))
          << size << " + " << garbage.size() << ": " << status;
    }
  }
  // With a whole chunk after it, the message says what happened.
  absl::StatusOr<std::string> ciphertext =
      AgeEncrypt(recipients_, testing::RandomBytes(65536, 9));
  absl::Status status =
      DecryptStatus(*ciphertext + std::string(kSealedChunkSize, 'z'));
  EXPECT_NE(status.message().find("bytes follow"), std::string::npos) << status;
}

TEST_F(AgeStreamTest, WhatIsNotAgeIsRefusedAtOnce) {
  absl::StatusOr<std::unique_ptr<Decryptor>> decryptor =
      Decryptor::Create(identities_, [](const char*, size_t) {
        ADD_FAILURE() << "no plaintext expected";
        return absl::OkStatus();
      });
  ASSERT_TRUE(decryptor.ok());
  absl::Status status = (*decryptor)->Write("\x28\xb5\x2f\xfd zstd frame");
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_NE(status.message().find("not an age"), std::string::npos);
  EXPECT_EQ((*decryptor)->Finish(), status) << "errors are sticky";
  EXPECT_TRUE(absl::IsDataLoss(DecryptStatus("")));
}

TEST_F(AgeStreamTest, SinkErrorsStopTheStream) {
  int calls = 0;
  auto encryptor = Encryptor::Create(recipients_, [&](const char*, size_t) {
    return ++calls > 2 ? absl::UnavailableError("disk full") : absl::OkStatus();
  });
  ASSERT_TRUE(encryptor.ok());  // header and nonce: two calls
  const std::string data(200000, 'd');
  EXPECT_TRUE(absl::IsUnavailable((*encryptor)->Write(data)));
  EXPECT_TRUE(absl::IsUnavailable((*encryptor)->Finish()));

  auto failing_create = Encryptor::Create(recipients_, [](const char*, size_t) {
    return absl::UnavailableError("disk full");
  });
  EXPECT_TRUE(absl::IsUnavailable(failing_create.status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(Encryptor::Create({}, [](const char*, size_t) {
                                return absl::OkStatus();
                              }).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(Decryptor::Create({}, [](const char*, size_t) {
                                return absl::OkStatus();
                              }).status()));
}

TEST_F(AgeStreamTest, WritingAfterFinishIsRefused) {
  auto encryptor = Encryptor::Create(
      recipients_, [](const char*, size_t) { return absl::OkStatus(); });
  ASSERT_TRUE(encryptor.ok());
  ASSERT_TRUE((*encryptor)->Finish().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*encryptor)->Write("x")));
  EXPECT_TRUE(absl::IsFailedPrecondition((*encryptor)->Finish()));
}

// 64 MiB through both streams in 1 MiB writes, checked against the bounds
// after every call and on every piece the sinks see; nothing is kept.
TEST_F(AgeStreamTest, MemoryIsBoundedWhateverTheInputSize) {
  constexpr size_t kWrite = 1 << 20;
  constexpr size_t kWrites = 64;
  std::string block = testing::RandomBytes(kWrite, 10);
  auto expected = [&block](uint64_t position) {
    const size_t index = position / kWrite;
    const size_t offset = position % kWrite;
    return offset < 8 ? static_cast<char>(index >> (8 * offset))
                      : block[offset];
  };
  uint64_t plaintext_seen = 0;
  bool plaintext_matches = true;
  auto decryptor = Decryptor::Create(identities_, [&](const char* d, size_t n) {
    EXPECT_LE(n, kChunkSize);
    for (size_t i = 0; i < n && plaintext_matches; ++i) {
      plaintext_matches = d[i] == expected(plaintext_seen + i);
    }
    plaintext_seen += n;
    return absl::OkStatus();
  });
  ASSERT_TRUE(decryptor.ok());
  size_t largest_piece = 0;
  auto encryptor = Encryptor::Create(recipients_, [&](const char* d, size_t n) {
    largest_piece = std::max(largest_piece, n);
    absl::Status s = (*decryptor)->Write(d, n);
    EXPECT_LE((*decryptor)->buffered_bytes(), Decryptor::kMaxBufferedBytes);
    return s;
  });
  ASSERT_TRUE(encryptor.ok());
  for (size_t i = 0; i < kWrites; ++i) {
    for (size_t b = 0; b < 8; ++b) block[b] = static_cast<char>(i >> (8 * b));
    ASSERT_TRUE((*encryptor)->Write(block).ok());
    ASSERT_LE((*encryptor)->buffered_bytes(), Encryptor::kMaxBufferedBytes);
  }
  ASSERT_TRUE((*encryptor)->Finish().ok());
  ASSERT_TRUE((*decryptor)->Finish().ok());
  EXPECT_EQ((*encryptor)->buffered_bytes(), 0u);
  EXPECT_EQ(plaintext_seen, kWrite * kWrites);
  EXPECT_TRUE(plaintext_matches);
  EXPECT_LE(largest_piece, kSealedChunkSize);
  EXPECT_EQ(Encryptor::kMaxBufferedBytes, 64u * 1024);
}

}  // namespace
}  // namespace dxbackup::scheduler::crypto
