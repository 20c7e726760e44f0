// DirectoryStore's own behaviour: files on disk, partial files, crash
// leftovers. What every store does is in artifact_store_contract_test.cc.
#include "scheduler/store/directory_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/sha256.h"
#include "scheduler/store/store_reconcile.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

using testing::TempDir;

std::string DigestOf(const std::string& s) {
  common::Sha256 h;
  h.Update(s);
  return h.HexDigest();
}

TEST(DirectoryStoreTest, CommitMakesTheFinalFileOnlyWhenTheDigestMatches) {
  TempDir dir;
  DirectoryStore store(dir / "store");
  ASSERT_TRUE(store.Init().ok());
  const std::string rel =
      ArtifactStore::RelativePath("ns", "dx", "set1", "a.tar.zst");
  EXPECT_EQ(rel, "ns/dx/set1/a.tar.zst");
  {
    auto pending = store.Begin(rel);
    ASSERT_TRUE(pending.ok());
    ASSERT_TRUE((*pending)->Append("hello", 5).ok());
    EXPECT_FALSE(std::filesystem::exists(dir / ("store/" + rel)))
        << "nothing under the final name before commit";
    absl::Status s = (*pending)->Commit(DigestOf("tampered"));
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / ("store/" + rel)));
  EXPECT_FALSE(std::filesystem::exists(dir / ("store/" + rel + ".partial")));

  auto pending = store.Begin(rel);
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE((*pending)->Append("hello", 5).ok());
  ASSERT_TRUE((*pending)->Commit(DigestOf("hello")).ok());
  EXPECT_EQ((*pending)->sha256(), DigestOf("hello"));
  EXPECT_EQ(testing::ReadFile(dir / ("store/" + rel)), "hello");
  EXPECT_EQ(store.Begin(rel).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(DirectoryStoreTest, AbandonedWritesLeaveNothing) {
  TempDir dir;
  DirectoryStore store(dir / "store");
  ASSERT_TRUE(store.Init().ok());
  {
    auto pending = store.Begin("ns/dx/s/x.pgdump");
    ASSERT_TRUE(pending.ok());
    ASSERT_TRUE((*pending)->Append("half", 4).ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir / "store/ns/dx/s"));
}

TEST(DirectoryStoreTest, ReconcileRemovesPartialsAndUnrecordedFiles) {
  TempDir dir;
  DirectoryStore store(dir / "store");
  ASSERT_TRUE(store.Init().ok());
  testing::WriteFile(dir / "store/ns/dx/s/kept.tar.zst", "k");
  testing::WriteFile(dir / "store/ns/dx/s/crash.tar.zst.partial", "p");
  testing::WriteFile(dir / "store/ns/dx/s/orphan.pgdump", "o");
  auto reconciled = Reconcile(store, {"ns/dx/s/kept.tar.zst"},
                              [](const std::string& id) { return id == "s"; });
  ASSERT_TRUE(reconciled.ok());
  EXPECT_EQ(reconciled->removed.size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(dir / "store/ns/dx/s/kept.tar.zst"));
  EXPECT_FALSE(std::filesystem::exists(dir / "store/ns/dx/s/orphan.pgdump"));
  EXPECT_FALSE(
      std::filesystem::exists(dir / "store/ns/dx/s/crash.tar.zst.partial"));
}

TEST(DirectoryStoreTest, APartialFileIsNeitherListedNorOpened) {
  TempDir dir;
  DirectoryStore store(dir / "store");
  ASSERT_TRUE(store.Init().ok());
  testing::WriteFile(dir / "store/ns/dx/s/crash.tar.zst.partial", "p");
  EXPECT_TRUE(store.List("")->empty());
  EXPECT_EQ(store.Stat("ns/dx/s/crash.tar.zst").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Open("ns/dx/s/crash.tar.zst").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(DirectoryStoreTest, RemovingASetsLastFileTakesItsDirectory) {
  TempDir dir;
  DirectoryStore store(dir / "store");
  ASSERT_TRUE(store.Init().ok());
  testing::WriteFile(dir / "store/ns/dx/s/a.tar.zst", "a");
  testing::WriteFile(dir / "store/ns/dx/s/b.pgdump", "b");
  ASSERT_TRUE(store.Remove("ns/dx/s/a.tar.zst").ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "store/ns/dx/s"));
  ASSERT_TRUE(store.Remove("ns/dx/s/b.pgdump").ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "store/ns/dx/s"));
  EXPECT_TRUE(std::filesystem::exists(dir / "store/ns/dx"));
  // A later write into the same set makes the directory again.
  auto pending = store.Begin("ns/dx/s/c.tar.zst");
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_TRUE((*pending)->Commit("").ok());
}

TEST(DirectoryStoreTest, RefusesAnyPathThatIsNotPlainlyBelowTheStore) {
  TempDir dir;
  DirectoryStore store(dir / "data/store");
  ASSERT_TRUE(store.Init().ok());
  for (const std::string& rel :
       {ArtifactStore::RelativePath("ns", "dx", "set1",
                                    "core-x/../../../../escaped/y.tar.zst"),
        std::string("/abs/file"), std::string("ns//dx/f"),
        std::string("ns/./dx/f"), std::string(""), std::string("..")}) {
    auto pending = store.Begin(rel);
    EXPECT_EQ(pending.status().code(), absl::StatusCode::kInvalidArgument)
        << rel;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "escaped"));
  EXPECT_FALSE(std::filesystem::exists(dir / "data/escaped"));
}

TEST(DirectoryStoreTest, ANamespaceQuotaCountsStoredAndInFlightBytes) {
  TempDir dir;
  DirectoryStore store(dir / "store");
  store.set_namespace_quota(100);
  ASSERT_TRUE(store.Init().ok());
  const std::string sixty(60, 'x');
  {
    auto first = store.Begin("ns-a/dx/set1/a.tar.zst");
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE((*first)->Append(sixty.data(), sixty.size()).ok());
    // A second write of the same namespace while the first is in flight.
    auto second = store.Begin("ns-a/dx/set1/b.tar.zst");
    ASSERT_TRUE(second.ok());
    absl::Status over = (*second)->Append(sixty.data(), sixty.size());
    EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(over.message().find("namespace ns-a"), std::string::npos)
        << over.message();
    EXPECT_NE(over.message().find("max_store_bytes_per_namespace"),
              std::string::npos);
    ASSERT_TRUE((*first)->Commit(DigestOf(sixty)).ok());
  }
  // Another namespace has its own quota.
  auto other = store.Begin("ns-b/dx/set2/a.tar.zst");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE((*other)->Append(sixty.data(), sixty.size()).ok());
  // The committed 60 bytes count, across restarts of the count too.
  auto third = store.Begin("ns-a/dx/set3/a.tar.zst");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)->Append(sixty.data(), sixty.size()).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE((*third)->Append(sixty.data(), 40).ok()) << "up to the quota";
  // Removing a set (retention) frees its bytes for the next write.
  std::filesystem::remove_all(dir / "store/ns-a/dx/set1");
  auto fourth = store.Begin("ns-a/dx/set4/a.tar.zst");
  ASSERT_TRUE(fourth.ok());
  EXPECT_TRUE((*fourth)->Append(sixty.data(), 50).ok());
}

}  // namespace
}  // namespace dxbackup::scheduler
