#include "scheduler/sets/set_verifier.h"

#include <gtest/gtest.h>

#include "agent/backup/tar_stream_writer.h"
#include "agent/backup/volume_walker.h"
#include "common/clock.h"
#include "common/sha256.h"
#include "scheduler/sets/file_lists.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"
#include "tests/support/string_sink.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

using testing::StringSink;

// A tar (zstd unless told) of a small tree with many compressible files.
std::string MakeArchive(const testing::TempDir& dir,
                        v1::Compression compression = v1::COMPRESSION_ZSTD) {
  for (int i = 0; i < 200; ++i) {
    testing::WriteFile(
        dir / ("tree/d" + std::to_string(i % 7) + "/f" + std::to_string(i)),
        std::string(4000 + i, 'a' + i % 26));
  }
  StringSink sink;
  v1::CaptureOptions options;
  options.set_compression(compression);
  agent::TarStreamWriter tar(&sink, options);
  EXPECT_TRUE(tar.Open().ok());
  agent::VolumeWalker walker(dir / "tree", {});
  EXPECT_TRUE(
      walker.Walk([&](const agent::WalkEntry& e) { return tar.Add(e); }).ok());
  EXPECT_TRUE(tar.Close().ok());
  return sink.bytes;
}

// ReadEveryTarEntry of `archive`, read back from a store.
absl::StatusOr<uint64_t> EntriesOf(const std::string& archive) {
  testing::MemoryStore store;
  EXPECT_TRUE(testing::PutObject(store, "a.tar", archive).ok());
  auto reader = store.Open("a.tar");
  if (!reader.ok()) return reader.status();
  return ReadEveryTarEntry(**reader);
}

TEST(ReadEveryTarEntryTest, CountsEveryEntry) {
  testing::TempDir dir;
  auto entries = EntriesOf(MakeArchive(dir));
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(*entries, 1u + 7u + 200u);
}

TEST(ReadEveryTarEntryTest, DamagedHeaderIsFound) {
  testing::TempDir dir;
  std::string archive = MakeArchive(dir, v1::COMPRESSION_NONE);
  archive[100] ^= 0x55;  // the first header's mode field: its checksum fails
  EXPECT_FALSE(EntriesOf(archive).ok());
}

TEST(ReadEveryTarEntryTest, TruncatedStreamIsFound) {
  testing::TempDir dir;
  const std::string archive = MakeArchive(dir);
  EXPECT_FALSE(EntriesOf(archive.substr(0, archive.size() / 3)).ok());
}

// CheckEach checks several artifacts at a time: each result is still its
// own artifact's, in the artifacts' order.
TEST(SetVerifierCheckEachTest, EachArtifactGetsItsOwnResultInOrder) {
  testing::MemoryCatalog catalog;
  testing::MemoryStore store;
  common::SystemClock clock;
  auto ring = crypto::KeyRing::Load(v1::SchedulerConfig());
  ASSERT_TRUE(ring.ok()) << ring.status();
  std::vector<v1::Artifact> artifacts;
  std::vector<std::string> want;  // "" for sound, else what the detail says
  for (int i = 0; i < 3 * static_cast<int>(SetVerifier::kParallelChecks); ++i) {
    const std::string bytes(1000 + 4099 * i, static_cast<char>('a' + i));
    v1::Artifact a;
    a.set_target("core/v" + std::to_string(i));
    a.set_path("ns/dx/s1/v" + std::to_string(i) + ".tar.zst");
    common::Sha256 digest;
    digest.Update(bytes.data(), bytes.size());
    a.set_sha256(digest.HexDigest());
    a.set_bytes(bytes.size());
    if (i % 3 == 1) {
      want.push_back("file missing from the store");
      artifacts.push_back(a);
      continue;
    }
    ASSERT_TRUE(testing::PutObject(store, a.path(), bytes).ok());
    if (i % 3 == 2) {
      // Bit rot: the same size, other bytes.
      store.Corrupt(a.path(), std::string(bytes.size(), 'z'));
      want.push_back("SHA-256 ");
    } else {
      want.push_back("");
    }
    artifacts.push_back(a);
  }
  SetVerifier verifier(&catalog, &store, &clock, ring->get());
  const std::vector<v1::ArtifactCheck> checks = verifier.CheckEach(artifacts);
  ASSERT_EQ(checks.size(), artifacts.size());
  for (size_t i = 0; i < checks.size(); ++i) {
    EXPECT_EQ(checks[i].target(), artifacts[i].target());
    EXPECT_EQ(checks[i].ok(), want[i].empty())
        << i << ": " << checks[i].detail();
    EXPECT_NE(checks[i].detail().find(want[i]), std::string::npos)
        << i << ": " << checks[i].detail();
  }
  EXPECT_TRUE(verifier.CheckEach({}).empty());
}

// A set retention is removing is not verified (its files going would look
// like damage), and a verification leases its set while it checks it.
TEST(SetVerifierLeaseTest, ASetBeingRemovedIsNotFoundCorruptAndAVerifyLeases) {
  testing::MemoryCatalog catalog;
  testing::MemoryStore store;
  common::SystemClock clock;
  auto ring = crypto::KeyRing::Load(v1::SchedulerConfig());
  ASSERT_TRUE(ring.ok()) << ring.status();
  v1::BackupSet set;
  set.set_id("s1");
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_status(v1::SET_EXPIRING);
  ASSERT_TRUE(catalog.CreateSet(set).ok());
  v1::Artifact a;
  a.set_set_id("s1");
  a.set_target("core/profile");
  a.set_path("ns/dx/s1/core-profile.tar.zst");  // already deleted
  a.set_sha256(std::string(64, '0'));
  a.set_bytes(10);
  ASSERT_TRUE(catalog.AddArtifact(a).ok());
  SetLeases leases;
  SetVerifier verifier(&catalog, &store, &clock, ring->get());
  verifier.LeaseFrom(&leases);
  auto verified = verifier.Verify("s1", /*deep=*/false);
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(verified.status().message().find("is being removed"),
            std::string::npos)
      << verified.status();
  EXPECT_FALSE(catalog.GetSet("s1")->has_verification()) << "not marked";
  EXPECT_TRUE(leases.Readers().empty()) << "the lease ended with the check";

  // While a remover has it, no verification begins.
  set.set_status(v1::SET_COMPLETE);
  ASSERT_TRUE(catalog.UpdateSet(set).ok());
  std::string reader;
  ASSERT_TRUE(leases.BeginRemoval("s1", &reader));
  EXPECT_EQ(verifier.Verify("s1", false).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(catalog.GetSet("s1")->has_verification());
  leases.FinishRemoval("s1");
}

// An encrypted set: `verify` proves its stored bytes without any key;
// `--deep` decrypts and proves the contents and the plaintext digest, and
// without a key that opens it is refused, recording nothing.
class EncryptedSetVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(dir_ / "recipients.txt",
                       key_.recipient().ToString() + "\n");
    v1::SchedulerConfig config;
    config.mutable_encryption()->add_keys()->set_recipients_file(
        dir_ / "recipients.txt");
    ring_ = *crypto::KeyRing::Load(config);
    v1::BackupSet set;
    set.set_id("s1");
    set.set_status(v1::SET_COMPLETE);
    ASSERT_TRUE(catalog_.CreateSet(set).ok());
    v1::Artifact a;
    a.set_set_id("s1");
    a.set_target("core/data");
    a.set_kind(v1::ARTIFACT_VOLUME_TAR);
    a.set_file_count(1 + 7 + 200);
    a.set_path("ns/dx/s1/core-data.tar.zst.age");
    auto pending = ring_->Begin(store_, a);
    ASSERT_TRUE(pending.ok()) << pending.status();
    const std::string archive = MakeArchive(dir_);
    ASSERT_TRUE((*pending)->Append(archive.data(), archive.size()).ok());
    ASSERT_TRUE((*pending)->Commit("").ok());
    crypto::RecordStored(**pending, &a);
    artifact_ = a;
  }

  v1::Verification::Result Recorded() {
    return catalog_.GetSet("s1")->verification().result();
  }

  testing::TempDir dir_;
  crypto::Identity key_ = *crypto::Identity::Generate();
  std::unique_ptr<crypto::KeyRing> ring_;
  testing::MemoryCatalog catalog_;
  testing::MemoryStore store_;
  common::SystemClock clock_;
  v1::Artifact artifact_;
};

TEST_F(EncryptedSetVerifierTest, DeepNeedsTheKeyPlainDoesNot) {
  ASSERT_TRUE(catalog_.AddArtifact(artifact_).ok());
  SetVerifier verifier(&catalog_, &store_, &clock_, ring_.get());
  auto plain = verifier.Verify("s1", /*deep=*/false);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(Recorded(), v1::Verification::VERIFIED);

  auto keyless = verifier.Verify("s1", /*deep=*/true);
  EXPECT_EQ(keyless.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(keyless.status().message().find("--key-file"), std::string::npos)
      << keyless.status();
  auto wrong =
      verifier.Verify("s1", /*deep=*/true, {*crypto::Identity::Generate()});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(catalog_.GetSet("s1")->verification().deep())
      << "the refused deep checks recorded nothing";

  auto deep = verifier.Verify("s1", /*deep=*/true, {key_});
  ASSERT_TRUE(deep.ok()) << deep.status();
  EXPECT_EQ(Recorded(), v1::Verification::VERIFIED)
      << deep->set().verification().detail();
  EXPECT_TRUE(catalog_.GetSet("s1")->verification().deep());
}

TEST_F(EncryptedSetVerifierTest, DeepComparesThePlaintextWithTheCatalog) {
  artifact_.set_plain_sha256(std::string(64, '0'));
  ASSERT_TRUE(catalog_.AddArtifact(artifact_).ok());
  SetVerifier verifier(&catalog_, &store_, &clock_, ring_.get());
  ASSERT_TRUE(verifier.Verify("s1", /*deep=*/false).ok());
  EXPECT_EQ(Recorded(), v1::Verification::VERIFIED)
      << "the stored bytes are whole";
  auto deep = verifier.Verify("s1", /*deep=*/true, {key_});
  ASSERT_TRUE(deep.ok()) << deep.status();
  EXPECT_EQ(Recorded(), v1::Verification::CORRUPT);
  EXPECT_NE(deep->set().verification().detail().find("decrypted:"),
            std::string::npos)
      << deep->set().verification().detail();
}

TEST_F(EncryptedSetVerifierTest, ADamagedAgeHeaderIsCorruptNotAWrongKey) {
  ASSERT_TRUE(catalog_.AddArtifact(artifact_).ok());
  std::string stored = *testing::ReadObject(store_, artifact_.path());
  stored[40] ^= 0x01;  // inside the X25519 stanza: no key would open it
  store_.Corrupt(artifact_.path(), stored);
  SetVerifier verifier(&catalog_, &store_, &clock_, ring_.get());
  auto deep = verifier.Verify("s1", /*deep=*/true, {key_});
  ASSERT_TRUE(deep.ok()) << "taken for a key problem: " << deep.status();
  EXPECT_EQ(Recorded(), v1::Verification::CORRUPT);
  EXPECT_NE(deep->set().verification().detail().find("SHA-256"),
            std::string::npos)
      << deep->set().verification().detail();
}

// A set whose file index moved to the store (file_index_sets): verify
// checks the list's stored bytes too; a damaged list is said, but the set,
// whose data restores, is not corrupt for it.
TEST(SetVerifierFileListTest, AListIsCheckedAndItsDamageIsNoCorruptSet) {
  testing::MemoryCatalog catalog;
  testing::MemoryStore store;
  common::SystemClock clock;
  crypto::KeyRing keys;
  v1::BackupSet set;
  set.set_id("s1");
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_status(v1::SET_COMPLETE);
  ASSERT_TRUE(catalog.CreateSet(set).ok());
  const std::string bytes = "an archive's bytes";
  v1::Artifact volume;
  volume.set_set_id("s1");
  volume.set_target("core/profile");
  volume.set_kind(v1::ARTIFACT_VOLUME_TAR);
  volume.set_path("ns/dx/s1/core-profile.tar.zst");
  volume.set_bytes(bytes.size());
  common::Sha256 digest;
  digest.Update(bytes);
  volume.set_sha256(digest.HexDigest());
  ASSERT_TRUE(testing::PutObject(store, volume.path(), bytes).ok());
  ASSERT_TRUE(catalog.AddArtifact(volume).ok());
  google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
  entries.Add()->set_path("wps.properties");
  ASSERT_TRUE(catalog.AddFiles("s1", "core/profile", entries).ok());
  FileLists lists(&catalog, &catalog, &store, &keys);
  ASSERT_TRUE(lists.Move(volume).ok());

  SetVerifier verifier(&catalog, &store, &clock, &keys);
  auto sound = verifier.Verify("s1", /*deep=*/false);
  ASSERT_TRUE(sound.ok()) << sound.status();
  ASSERT_EQ(sound->checks_size(), 2);
  EXPECT_EQ(sound->checks(1).target(), "core/profile (file list)");
  EXPECT_TRUE(sound->checks(1).ok()) << sound->checks(1).detail();

  const std::string list =
      catalog.ListArtifacts("s1")->at(0).file_list().path();
  store.Corrupt(list, "not the list");
  auto damaged = verifier.Verify("s1", /*deep=*/false);
  ASSERT_TRUE(damaged.ok()) << damaged.status();
  EXPECT_TRUE(damaged->checks(0).ok());
  EXPECT_FALSE(damaged->checks(1).ok());
  EXPECT_EQ(damaged->set().verification().result(), v1::Verification::VERIFIED);
  EXPECT_NE(
      damaged->set().verification().detail().find("core/profile (file list): "),
      std::string::npos)
      << damaged->set().verification().detail();
}

}  // namespace
}  // namespace dxbackup::scheduler
