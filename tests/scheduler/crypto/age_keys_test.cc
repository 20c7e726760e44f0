// age keys: keys made by the stock age-keygen parse, derive the public key
// it printed, and load from its files; damaged keys and files are refused
// with messages that name the file and never the key.
#include "scheduler/crypto/age_keys.h"

#include <gtest/gtest.h>

#include "tests/scheduler/crypto/age_test_util.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler::crypto {
namespace {

using testing::MakeStockKey;
using testing::StockKey;
using testing::TempDir;
using testing::WriteFile;

std::string SecretLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("AGE-SECRET-KEY-1", 0) == 0) return line;
  }
  return "";
}

TEST(AgeKeysTest, AStockKeyDerivesThePublicKeyAgeKeygenPrinted) {
  TempDir dir;
  for (int i = 0; i < 5; ++i) {
    const StockKey key = MakeStockKey(dir / ("key" + std::to_string(i)));
    ASSERT_FALSE(key.public_key.empty())
        << "age-keygen failed (install age: tools/install-deps.sh)";
    absl::StatusOr<Identity> identity = Identity::Parse(SecretLine(key.path));
    ASSERT_TRUE(identity.ok()) << identity.status();
    EXPECT_EQ(identity->recipient().ToString(), key.public_key);
    // Re-encoding gives the same strings back.
    EXPECT_EQ(identity->SecretKeyString(), SecretLine(key.path));
    absl::StatusOr<Recipient> recipient = Recipient::Parse(key.public_key);
    ASSERT_TRUE(recipient.ok()) << recipient.status();
    EXPECT_EQ(*recipient, identity->recipient());
    EXPECT_EQ(recipient->ToString(), key.public_key);
  }
}

TEST(AgeKeysTest, AGeneratedKeyIsOneAgeKeygenAgrees) {
  TempDir dir;
  absl::StatusOr<Identity> identity = Identity::Generate();
  ASSERT_TRUE(identity.ok()) << identity.status();
  WriteFile(dir / "key.txt", identity->SecretKeyString() + "\n");
  std::string output;
  ASSERT_EQ(testing::RunCommand({"age-keygen", "-y", dir / "key.txt"}, &output),
            0)
      << output;
  EXPECT_EQ(output, identity->recipient().ToString() + "\n");
}

TEST(AgeKeysTest, RejectsABadChecksum) {
  TempDir dir;
  const StockKey key = MakeStockKey(dir / "key");
  ASSERT_FALSE(key.public_key.empty());
  std::string recipient = key.public_key;
  recipient.back() = recipient.back() == 'q' ? 'p' : 'q';
  EXPECT_EQ(Recipient::Parse(recipient).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string secret = SecretLine(key.path);
  secret[20] = secret[20] == 'Q' ? 'P' : 'Q';
  absl::Status status = Identity::Parse(secret).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()).find(secret.substr(16)),
            std::string::npos)
      << "the message must not echo the key";
}

TEST(AgeKeysTest, RejectsTheWrongKindOfKey) {
  TempDir dir;
  const StockKey key = MakeStockKey(dir / "key");
  ASSERT_FALSE(key.public_key.empty());
  const std::string secret = SecretLine(key.path);
  // A secret key where a recipient goes, and the reverse.
  absl::Status status = Recipient::Parse(secret).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()).find(secret.substr(16)),
            std::string::npos);
  EXPECT_FALSE(Identity::Parse(key.public_key).ok());
  // age accepts identities in upper case only.
  std::string lower = secret;
  for (char& c : lower) c = static_cast<char>(tolower(c));
  EXPECT_FALSE(Identity::Parse(lower).ok());
  EXPECT_FALSE(Recipient::Parse("age1").ok());
  EXPECT_FALSE(Recipient::Parse("").ok());
}

TEST(AgeKeysTest, LoadsEveryKeyOfAFileSkippingComments) {
  TempDir dir;
  const StockKey a = MakeStockKey(dir / "a");
  const StockKey b = MakeStockKey(dir / "b");
  ASSERT_FALSE(a.public_key.empty());
  WriteFile(dir / "both.txt", testing::ReadFile(a.path) + "\n  \n# note\n" +
                                  testing::ReadFile(b.path));
  absl::StatusOr<std::vector<Identity>> identities =
      LoadIdentities(dir / "both.txt");
  ASSERT_TRUE(identities.ok()) << identities.status();
  ASSERT_EQ(identities->size(), 2u);
  EXPECT_EQ((*identities)[0].recipient().ToString(), a.public_key);
  EXPECT_EQ((*identities)[1].recipient().ToString(), b.public_key);
  EXPECT_EQ((*identities)[1].source(), dir / "both.txt");

  WriteFile(dir / "recipients.txt",
            "# team\n" + a.public_key + "\n" + b.public_key + "\n");
  absl::StatusOr<std::vector<Recipient>> recipients =
      LoadRecipients(dir / "recipients.txt");
  ASSERT_TRUE(recipients.ok()) << recipients.status();
  ASSERT_EQ(recipients->size(), 2u);
  EXPECT_EQ((*recipients)[1].ToString(), b.public_key);
}

TEST(AgeKeysTest, FileErrorsNameTheFileAndLineButNotTheKey) {
  TempDir dir;
  const StockKey key = MakeStockKey(dir / "key");
  ASSERT_FALSE(key.public_key.empty());
  std::string damaged = SecretLine(key.path);
  damaged.back() = damaged.back() == 'Q' ? 'P' : 'Q';
  WriteFile(dir / "damaged.txt", "# created: now\n" + damaged + "\n");
  absl::Status status = LoadIdentities(dir / "damaged.txt").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(dir / "damaged.txt"), std::string::npos)
      << status;
  EXPECT_NE(status.message().find("line 2"), std::string::npos) << status;
  EXPECT_EQ(std::string(status.message()).find(damaged.substr(16)),
            std::string::npos);

  WriteFile(dir / "empty.txt", "# nothing\n\n");
  status = LoadIdentities(dir / "empty.txt").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("empty.txt"), std::string::npos);

  status = LoadIdentities(dir / "missing.txt").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("missing.txt"), std::string::npos);
}

}  // namespace
}  // namespace dxbackup::scheduler::crypto
