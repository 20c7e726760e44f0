// KeyRing: which artifacts are sealed and for whom (from the config and
// the recipients files as they are at each write), and how they open again
// with the keys a caller gives — or say which key they need.
#include "scheduler/crypto/key_ring.h"

#include <gtest/gtest.h>

#include "scheduler/crypto/encrypted_artifact.h"
#include "scheduler/crypto/key_grants.h"
#include "tests/scheduler/crypto/age_test_util.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler::crypto {
namespace {

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(dir_ / "prod.txt",
                       "# prod\n" + prod_.recipient().ToString() + "\n");
    v1::EncryptionKey* key = config_.mutable_encryption()->add_keys();
    key->add_namespaces("prod-*");
    key->set_recipients_file(dir_ / "prod.txt");
    auto ring = KeyRing::Load(config_);
    ASSERT_TRUE(ring.ok()) << ring.status();
    ring_ = std::move(*ring);
  }

  // Writes `plain` as the artifact planned at `path`; its catalog row.
  v1::Artifact Write(const std::string& path, const std::string& plain) {
    v1::Artifact planned;
    planned.set_path(path);
    auto pending = ring_->Begin(store_, planned);
    EXPECT_TRUE(pending.ok()) << pending.status();
    if (!pending.ok()) return planned;
    EXPECT_TRUE((*pending)->Append(plain.data(), plain.size()).ok());
    EXPECT_TRUE((*pending)->Commit("").ok());
    RecordStored(**pending, &planned);
    return planned;
  }

  absl::StatusOr<std::string> ReadPlain(const v1::Artifact& a,
                                        const std::vector<Identity>& given) {
    auto reader = ring_->OpenPlain(store_, a, given);
    if (!reader.ok()) return reader.status();
    std::string plain;
    absl::Status s = ForEachChunk(**reader, [&](const char* d, size_t n) {
      plain.append(d, n);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return plain;
  }

  testing::TempDir dir_;
  v1::SchedulerConfig config_;
  Identity prod_ = *Identity::Generate();
  Identity other_ = *Identity::Generate();
  std::unique_ptr<KeyRing> ring_;
  testing::MemoryStore store_;
};

TEST_F(KeyRingTest, OnlyAgePathsAreSealedAndTheCatalogGetsBothDigests) {
  const v1::Artifact clear = Write("dev/dx/s1/core-data.tar.zst", "in clear");
  EXPECT_TRUE(clear.encrypted_for().empty());
  EXPECT_EQ(*testing::ReadObject(store_, clear.path()), "in clear");
  EXPECT_EQ(PlainSha256(clear), clear.sha256());
  EXPECT_EQ(PlainBytes(clear), 8u);

  const v1::Artifact sealed =
      Write("prod-eu/dx/s1/core-data.tar.zst.age", "a secret profile");
  const std::string stored = *testing::ReadObject(store_, sealed.path());
  EXPECT_TRUE(IsAgeFile(stored));
  EXPECT_EQ(stored.find("secret"), std::string::npos);
  EXPECT_EQ(sealed.encrypted_for(), prod_.recipient().ToString());
  EXPECT_EQ(sealed.bytes(), stored.size());
  EXPECT_EQ(sealed.plain_bytes(), 16u);
  EXPECT_NE(sealed.sha256(), sealed.plain_sha256());
  EXPECT_EQ(PlainSha256(sealed), sealed.plain_sha256());
  EXPECT_EQ(*ReadPlain(sealed, {prod_}), "a secret profile");
}

TEST_F(KeyRingTest, ARotatedRecipientsFileIsUsedByTheNextArtifact) {
  const v1::Artifact before = Write("prod-eu/dx/s1/a.age", "before");
  testing::WriteFile(dir_ / "prod.txt", other_.recipient().ToString() + "\n");
  const v1::Artifact after = Write("prod-eu/dx/s2/a.age", "after");
  EXPECT_EQ(before.encrypted_for(), prod_.recipient().ToString());
  EXPECT_EQ(after.encrypted_for(), other_.recipient().ToString());
  EXPECT_EQ(*ReadPlain(before, {other_, prod_}), "before");
  EXPECT_EQ(*ReadPlain(after, {other_, prod_}), "after");
}

TEST_F(KeyRingTest, AMissingOrWrongKeyIsNamedBeforeAnythingIsRead) {
  const v1::Artifact sealed = Write("prod-eu/dx/s1/a.age", "data");
  const std::string needed = prod_.recipient().ToString();

  absl::Status none = ring_->CheckOpens(store_, sealed, {});
  EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition) << none;
  EXPECT_NE(none.message().find(needed), std::string::npos) << none;
  EXPECT_NE(none.message().find("--key-file"), std::string::npos) << none;
  EXPECT_FALSE(ring_->CanTryToOpen(sealed, {}));

  absl::Status wrong = ring_->CheckOpens(store_, sealed, {other_});
  EXPECT_EQ(wrong.code(), absl::StatusCode::kPermissionDenied) << wrong;
  EXPECT_NE(wrong.message().find(needed), std::string::npos) << wrong;
  EXPECT_TRUE(ring_->CheckOpens(store_, sealed, {prod_}).ok());

  // The store's own errors are not taken for a wrong key.
  ASSERT_TRUE(store_.Remove(sealed.path()).ok());
  EXPECT_EQ(ring_->CheckOpens(store_, sealed, {other_}).code(),
            absl::StatusCode::kNotFound);

  v1::Artifact clear;
  clear.set_path("dev/dx/s1/a");
  EXPECT_TRUE(ring_->CheckOpens(store_, clear, {}).ok()) << "nothing to open";
}

TEST_F(KeyRingTest, ConfiguredIdentitiesOpenWithoutAKeyFromTheCaller) {
  const v1::Artifact sealed = Write("prod-eu/dx/s1/a.age", "data");
  testing::WriteFile(dir_ / "prod.key", prod_.SecretKeyString() + "\n");
  config_.mutable_encryption()->add_identity_files(dir_ / "prod.key");
  auto ring = KeyRing::Load(config_);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_TRUE((*ring)->CheckOpens(store_, sealed, {}).ok());
}

TEST_F(KeyRingTest, UnreadableKeyFilesAreNamed) {
  v1::SchedulerConfig missing = config_;
  missing.mutable_encryption()->mutable_keys(0)->set_recipients_file(
      dir_ / "gone.txt");
  auto load = KeyRing::Load(missing);
  ASSERT_FALSE(load.ok());
  EXPECT_NE(load.status().message().find(dir_ / "gone.txt"), std::string::npos)
      << load.status();

  // Gone after the start: that artifact fails, naming the file; nothing
  // is stored.
  std::filesystem::remove(dir_ / "prod.txt");
  v1::Artifact planned;
  planned.set_path("prod-eu/dx/s1/a.age");
  auto pending = ring_->Begin(store_, planned);
  ASSERT_FALSE(pending.ok());
  EXPECT_NE(pending.status().message().find(dir_ / "prod.txt"),
            std::string::npos)
      << pending.status();
  EXPECT_EQ(store_.Stat(planned.path()).status().code(),
            absl::StatusCode::kNotFound);

  // Planned encrypted, but no key covers the namespace any more.
  planned.set_path("dev/dx/s1/a.age");
  EXPECT_EQ(ring_->Begin(store_, planned).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeyRingTest, GivenKeysAreCheckedWithoutEchoingThem) {
  EXPECT_TRUE(ParseGivenIdentities("")->empty());
  auto two = ParseGivenIdentities("# mine\n" + prod_.SecretKeyString() + "\n" +
                                  other_.SecretKeyString() + "\n");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->size(), 2u);
  const std::string secret = prod_.SecretKeyString();
  std::string damaged = secret;
  damaged.back() = damaged.back() == 'Q' ? 'P' : 'Q';
  auto bad = ParseGivenIdentities(damaged + "\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().find(damaged.substr(20)), std::string::npos)
      << "the key is not echoed: " << bad.status();
}

TEST(KeyGrantsTest, KeysGivenToARunGoWithIt) {
  KeyGrants grants;
  auto keys = std::make_shared<const std::vector<Identity>>(
      std::vector<Identity>{*Identity::Generate()});
  {
    KeyGrants::Grant grant = grants.Give({"r1.1", "r1.2"}, keys);
    EXPECT_EQ(grants.For("r1.1").size(), 1u);
    EXPECT_EQ(grants.For("r1.2").size(), 1u);
    EXPECT_TRUE(grants.For("r2.1").empty());
    KeyGrants::Grant moved = std::move(grant);
    EXPECT_EQ(grants.For("r1.1").size(), 1u) << "moving keeps the grant";
  }
  EXPECT_TRUE(grants.For("r1.1").empty());
  EXPECT_TRUE(grants.For("r1.2").empty());
}

}  // namespace
}  // namespace dxbackup::scheduler::crypto
