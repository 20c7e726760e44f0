#include "scheduler/artifact_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/sha256.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

using testing::TempDir;

std::string DigestOf(const std::string& s) {
  common::Sha256 h;
  h.Update(s);
  return h.HexDigest();
}

TEST(ArtifactStoreTest, CommitMakesTheFinalFileOnlyWhenTheDigestMatches) {
  TempDir dir;
  ArtifactStore store(dir / "store");
  ASSERT_TRUE(store.Init().ok());
  const std::string rel =
      ArtifactStore::RelativePath("ns", "dx", "set1", "a.tar.zst");
  EXPECT_EQ(rel, "ns/dx/set1/a.tar.zst");
  {
    auto pending = store.Begin(rel);
    ASSERT_TRUE(pending.ok());
    ASSERT_TRUE((*pending)->Append("hello", 5).ok());
    EXPECT_FALSE(std::filesystem::exists(store.AbsolutePath(rel)))
        << "nothing under the final name before commit";
    absl::Status s = (*pending)->Commit(DigestOf("tampered"));
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_FALSE(std::filesystem::exists(store.AbsolutePath(rel)));
  EXPECT_FALSE(std::filesystem::exists(store.AbsolutePath(rel) + ".partial"));

  auto pending = store.Begin(rel);
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE((*pending)->Append("hello", 5).ok());
  ASSERT_TRUE((*pending)->Commit(DigestOf("hello")).ok());
  EXPECT_EQ((*pending)->sha256(), DigestOf("hello"));
  EXPECT_EQ(testing::ReadFile(store.AbsolutePath(rel)), "hello");
  EXPECT_EQ(store.Begin(rel).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(ArtifactStoreTest, AbandonedWritesLeaveNothing) {
  TempDir dir;
  ArtifactStore store(dir / "store");
  ASSERT_TRUE(store.Init().ok());
  {
    auto pending = store.Begin("ns/dx/s/x.pgdump");
    ASSERT_TRUE(pending.ok());
    ASSERT_TRUE((*pending)->Append("half", 4).ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir / "store/ns/dx/s"));
}

TEST(ArtifactStoreTest, ReconcileRemovesPartialsAndUnrecordedFiles) {
  TempDir dir;
  ArtifactStore store(dir / "store");
  ASSERT_TRUE(store.Init().ok());
  testing::WriteFile(dir / "store/ns/dx/s/kept.tar.zst", "k");
  testing::WriteFile(dir / "store/ns/dx/s/crash.tar.zst.partial", "p");
  testing::WriteFile(dir / "store/ns/dx/s/orphan.pgdump", "o");
  auto removed = store.Reconcile({"ns/dx/s/kept.tar.zst"});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(dir / "store/ns/dx/s/kept.tar.zst"));
  EXPECT_FALSE(std::filesystem::exists(dir / "store/ns/dx/s/orphan.pgdump"));
  EXPECT_FALSE(
      std::filesystem::exists(dir / "store/ns/dx/s/crash.tar.zst.partial"));
}

}  // namespace
}  // namespace dxbackup::scheduler
