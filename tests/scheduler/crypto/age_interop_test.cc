// Interoperability with the stock age tool (Debian's age 1.1.1), the
// operator's way to recover an artifact without dxbackup: what we encrypt
// `age -d` decrypts, and what `age -e` encrypts we decrypt, at the sizes
// around the 64 KiB chunk boundaries.
#include <gtest/gtest.h>

#include "scheduler/crypto/age_decryptor.h"
#include "scheduler/crypto/age_encryptor.h"
#include "tests/scheduler/crypto/age_test_util.h"
#include "tests/support/random_bytes.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler::crypto {
namespace {

using testing::AgeDecrypt;
using testing::AgeEncrypt;
using testing::MakeStockKey;
using testing::ReadFile;
using testing::RunCommand;
using testing::StockKey;
using testing::TempDir;
using testing::WriteFile;

const size_t kSizes[] = {0, 1, 65535, 65536, 65537, 3 * 65536, (1 << 20) + 7};

class AgeInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = MakeStockKey(dir_ / "key.txt");
    ASSERT_FALSE(key_.public_key.empty())
        << "age-keygen failed (install age: tools/install-deps.sh)";
    absl::StatusOr<std::vector<Identity>> identities =
        LoadIdentities(key_.path);
    ASSERT_TRUE(identities.ok()) << identities.status();
    identities_ = *identities;
    absl::StatusOr<Recipient> recipient = Recipient::Parse(key_.public_key);
    ASSERT_TRUE(recipient.ok()) << recipient.status();
    recipient_ = *recipient;
  }

  TempDir dir_;
  StockKey key_;
  std::vector<Identity> identities_;
  std::optional<Recipient> recipient_;
};

TEST_F(AgeInteropTest, StockAgeDecryptsWhatWeEncrypt) {
  for (size_t size : kSizes) {
    SCOPED_TRACE(size);
    const std::string plaintext = testing::RandomBytes(size, size + 1);
    absl::StatusOr<std::string> ciphertext =
        AgeEncrypt({*recipient_}, plaintext);
    ASSERT_TRUE(ciphertext.ok()) << ciphertext.status();
    const size_t chunks = size == 0 ? 1 : (size + kChunkSize - 1) / kChunkSize;
    const size_t header = ciphertext->find("\n---");
    ASSERT_NE(header, std::string::npos);
    EXPECT_EQ(ciphertext->size(), ciphertext->find('\n', header + 1) + 1 +
                                      kPayloadNonceSize + size +
                                      chunks * kTagSize);
    WriteFile(dir_ / "artifact.age", *ciphertext);
    std::string output;
    ASSERT_EQ(RunCommand({"age", "-d", "-i", key_.path, "-o", dir_ / "out",
                          dir_ / "artifact.age"},
                         &output),
              0)
        << output;
    EXPECT_TRUE(ReadFile(dir_ / "out") == plaintext);
  }
}

TEST_F(AgeInteropTest, WeDecryptWhatStockAgeEncrypts) {
  for (size_t size : kSizes) {
    SCOPED_TRACE(size);
    const std::string plaintext = testing::RandomBytes(size, size + 2);
    WriteFile(dir_ / "plain", plaintext);
    std::string output;
    ASSERT_EQ(RunCommand({"age", "-r", key_.public_key, "-o",
                          dir_ / "artifact.age", dir_ / "plain"},
                         &output),
              0)
        << output;
    const std::string ciphertext = ReadFile(dir_ / "artifact.age");
    // Whole, in chunk-sized writes, and in odd small writes.
    for (size_t write_size :
         {size_t{1} << 20, kSealedChunkSize, size_t{4093}}) {
      SCOPED_TRACE(write_size);
      absl::StatusOr<std::string> decrypted =
          AgeDecrypt(identities_, ciphertext, write_size);
      ASSERT_TRUE(decrypted.ok()) << decrypted.status();
      EXPECT_TRUE(*decrypted == plaintext);
    }
  }
}

TEST_F(AgeInteropTest, AnyOfSeveralRecipientsDecrypts) {
  std::vector<StockKey> keys;
  std::vector<Recipient> recipients;
  std::vector<std::string> age_args = {"age"};
  for (int i = 0; i < 3; ++i) {
    keys.push_back(MakeStockKey(dir_ / ("key" + std::to_string(i))));
    ASSERT_FALSE(keys.back().public_key.empty());
    recipients.push_back(*Recipient::Parse(keys.back().public_key));
    age_args.insert(age_args.end(), {"-r", keys.back().public_key});
  }
  const std::string plaintext = testing::RandomBytes(200000, 7);
  WriteFile(dir_ / "plain", plaintext);
  absl::StatusOr<std::string> ours = AgeEncrypt(recipients, plaintext);
  ASSERT_TRUE(ours.ok()) << ours.status();
  WriteFile(dir_ / "ours.age", *ours);
  age_args.insert(age_args.end(), {"-o", dir_ / "stock.age", dir_ / "plain"});
  std::string output;
  ASSERT_EQ(RunCommand(age_args, &output), 0) << output;
  const std::string stock = ReadFile(dir_ / "stock.age");

  for (const StockKey& key : keys) {
    SCOPED_TRACE(key.public_key);
    ASSERT_EQ(RunCommand({"age", "-d", "-i", key.path, "-o", dir_ / "out",
                          dir_ / "ours.age"},
                         &output),
              0)
        << output;
    EXPECT_TRUE(ReadFile(dir_ / "out") == plaintext);
    absl::StatusOr<std::vector<Identity>> identities = LoadIdentities(key.path);
    ASSERT_TRUE(identities.ok());
    for (const std::string* ciphertext :
         std::vector<const std::string*>{&ours.value(), &stock}) {
      absl::StatusOr<std::string> decrypted =
          AgeDecrypt(*identities, *ciphertext);
      ASSERT_TRUE(decrypted.ok()) << decrypted.status();
      EXPECT_TRUE(*decrypted == plaintext);
    }
  }
}

TEST_F(AgeInteropTest, AnyIdentityOfAFileDecrypts) {
  // A key file with a stranger's key first, then the recipient's.
  const StockKey stranger = MakeStockKey(dir_ / "stranger.txt");
  WriteFile(dir_ / "both.txt", ReadFile(stranger.path) + ReadFile(key_.path));
  absl::StatusOr<std::vector<Identity>> identities =
      LoadIdentities(dir_ / "both.txt");
  ASSERT_TRUE(identities.ok()) << identities.status();
  ASSERT_EQ(identities->size(), 2u);
  const std::string plaintext = "dxbackup artifact";
  absl::StatusOr<std::string> ciphertext = AgeEncrypt({*recipient_}, plaintext);
  ASSERT_TRUE(ciphertext.ok());
  std::string out;
  auto decryptor =
      Decryptor::Create(*identities, [&out](const char* d, size_t n) {
        out.append(d, n);
        return absl::OkStatus();
      });
  ASSERT_TRUE(decryptor.ok());
  ASSERT_TRUE((*decryptor)->Write(*ciphertext).ok());
  ASSERT_TRUE((*decryptor)->Finish().ok());
  EXPECT_EQ(out, plaintext);
  ASSERT_NE((*decryptor)->matched_identity(), nullptr);
  EXPECT_EQ((*decryptor)->matched_identity()->recipient(), *recipient_);
}

}  // namespace
}  // namespace dxbackup::scheduler::crypto
