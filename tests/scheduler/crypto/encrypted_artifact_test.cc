// Artifacts encrypted at rest: written through SealArtifact into a
// store, read back through DecryptingReader, and decrypted by the stock
// age tool (`age -d`) as an operator without dxbackup would.
#include "scheduler/crypto/encrypted_artifact.h"

#include <gtest/gtest.h>

#include "tests/scheduler/crypto/age_test_util.h"
#include "tests/support/memory_store.h"
#include "tests/support/random_bytes.h"
#include "tests/support/stored_objects.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler::crypto {
namespace {

std::string DigestOf(const std::string& s) {
  common::Sha256 h;
  h.Update(s);
  return h.HexDigest();
}

class EncryptedArtifactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = testing::MakeStockKey(dir_ / "key.txt");
    ASSERT_FALSE(key_.public_key.empty());
    auto recipient = Recipient::Parse(key_.public_key);
    ASSERT_TRUE(recipient.ok());
    recipients_ = {*recipient};
    auto identities = LoadIdentities(key_.path);
    ASSERT_TRUE(identities.ok());
    identities_ = *identities;
  }

  // Writes `plain` encrypted for `recipients` under `key`.
  absl::Status Put(const std::string& key, const std::string& plain,
                   const std::vector<Recipient>& recipients,
                   const std::string& expected_sha = "") {
    auto pending = store_.Begin(key);
    if (!pending.ok()) return pending.status();
    auto writer = SealArtifact(std::move(*pending), recipients);
    if (!writer.ok()) return writer.status();
    for (size_t at = 0; at < plain.size(); at += 100000) {
      const size_t n = std::min<size_t>(100000, plain.size() - at);
      if (absl::Status s = (*writer)->Append(plain.data() + at, n); !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = (*writer)->Commit(expected_sha); !s.ok()) return s;
    last_ = std::move(*writer);
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Get(const std::string& key,
                                  std::vector<Identity> identities) {
    auto stored = store_.Open(key);
    if (!stored.ok()) return stored.status();
    auto reader = DecryptingReader::Create(std::move(*stored),
                                           std::move(identities), key);
    if (!reader.ok()) return reader.status();
    std::string plain;
    absl::Status s = ForEachChunk(**reader, [&](const char* data, size_t n) {
      plain.append(data, n);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return plain;
  }

  testing::TempDir dir_;
  testing::StockKey key_;
  std::vector<Recipient> recipients_;
  std::vector<Identity> identities_;
  testing::MemoryStore store_;
  std::unique_ptr<PendingArtifact> last_;
};

TEST_F(EncryptedArtifactTest, TheStoreHoldsAnAgeFileThatStockAgeDecrypts) {
  const std::string plain = testing::RandomBytes((1 << 20) + 3, 5);
  ASSERT_TRUE(
      Put("ns/dx/s1/core-data.tar.zst", plain, recipients_, DigestOf(plain))
          .ok());
  const std::string stored =
      *testing::ReadObject(store_, "ns/dx/s1/core-data.tar.zst");
  EXPECT_TRUE(IsAgeFile(stored));
  EXPECT_EQ(stored.find(plain.substr(1000, 64)), std::string::npos)
      << "no plaintext in the store";
  // Two digests: the sender's plaintext, and the stored bytes the catalog
  // records.
  EXPECT_EQ(last_->sha256(), DigestOf(plain));
  EXPECT_EQ(last_->bytes(), plain.size());
  EXPECT_EQ(last_->stored_sha256(), DigestOf(stored));
  EXPECT_EQ(last_->stored_bytes(), stored.size());
  EXPECT_EQ(last_->encrypted_for(), key_.public_key);

  testing::WriteFile(dir_ / "stored.age", stored);
  std::string out;
  ASSERT_EQ(testing::RunCommand({"age", "-d", "-i", key_.path, "-o",
                                 dir_ / "plain", dir_ / "stored.age"},
                                &out),
            0)
      << out;
  EXPECT_EQ(testing::ReadFile(dir_ / "plain"), plain);
  EXPECT_EQ(*Get("ns/dx/s1/core-data.tar.zst", identities_), plain);
}

TEST_F(EncryptedArtifactTest, TheQuotaCountsTheStoredBytes) {
  const std::string plain = testing::RandomBytes(300000, 3);
  ASSERT_TRUE(Put("ns/dx/s1/a", plain, recipients_).ok());
  const uint64_t stored = last_->stored_bytes();
  ASSERT_GT(stored, plain.size()) << "age adds a header and a tag per chunk";
  testing::MemoryStore limited;
  limited.set_namespace_quota(stored - 1);
  auto pending = limited.Begin("ns/dx/s1/a");
  ASSERT_TRUE(pending.ok());
  auto sealed = SealArtifact(std::move(*pending), recipients_);
  ASSERT_TRUE(sealed.ok());
  absl::Status s = (*sealed)->Append(plain.data(), plain.size());
  if (s.ok()) s = (*sealed)->Commit("");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(limited.Stat("ns/dx/s1/a").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(EncryptedArtifactTest, ASenderDigestMismatchStoresNothing) {
  EXPECT_EQ(
      Put("ns/dx/s1/a", "hello", recipients_, DigestOf("tampered")).code(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_.Stat("ns/dx/s1/a").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(EncryptedArtifactTest, OldSetsReadWithTheOldKeyAfterARotation) {
  ASSERT_TRUE(Put("ns/dx/old/a", "before the rotation", recipients_).ok());
  auto fresh = Identity::Generate();
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(
      Put("ns/dx/new/a", "after the rotation", {fresh->recipient()}).ok());
  std::vector<Identity> both = {*fresh, identities_[0]};
  EXPECT_EQ(*Get("ns/dx/old/a", both), "before the rotation");
  EXPECT_EQ(*Get("ns/dx/new/a", both), "after the rotation");
  auto wrong = Get("ns/dx/old/a", {*fresh});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied)
      << wrong.status();
  EXPECT_NE(wrong.status().message().find("ns/dx/old/a"), std::string::npos)
      << wrong.status();
  auto none = Get("ns/dx/old/a", {});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("--key-file"), std::string::npos);
}

TEST_F(EncryptedArtifactTest,
       ATamperedOrTruncatedObjectIsDataLossNeverWrongBytes) {
  const std::string plain = testing::RandomBytes(200000, 9);
  ASSERT_TRUE(Put("ns/dx/s1/a", plain, recipients_).ok());
  const std::string stored = *testing::ReadObject(store_, "ns/dx/s1/a");
  std::string flipped = stored;
  flipped[flipped.size() / 2] ^= 0x01;
  store_.Corrupt("ns/dx/s1/a", flipped);
  EXPECT_EQ(Get("ns/dx/s1/a", identities_).status().code(),
            absl::StatusCode::kDataLoss);
  store_.Corrupt("ns/dx/s1/a", stored.substr(0, stored.size() - 100));
  EXPECT_EQ(Get("ns/dx/s1/a", identities_).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace dxbackup::scheduler::crypto
