// What every ArtifactStore does, run against each implementation: the
// DirectoryStore and the S3Store the scheduler uses (the latter on a real
// S3 API server on loopback, tests/s3), and the MemoryStore consumers'
// tests use. A new store joins the list in StoreKinds.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/sha256.h"
#include "scheduler/store/directory_store.h"
#include "scheduler/store/s3/s3_store.h"
#include "scheduler/store/store_reconcile.h"
#include "tests/support/memory_store.h"
#include "tests/support/s3_test_server.h"
#include "tests/support/stored_objects.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

using testing::PutObject;
using testing::ReadObject;

std::string DigestOf(const std::string& s) {
  common::Sha256 h;
  h.Update(s);
  return h.HexDigest();
}

std::vector<std::string> KeysOf(ArtifactStore& store,
                                const std::string& prefix) {
  std::vector<std::string> keys;
  auto listed = store.List(prefix);
  EXPECT_TRUE(listed.ok()) << listed.status();
  if (listed.ok()) {
    for (const StoredObject& object : *listed) keys.push_back(object.key);
  }
  return keys;
}

class ArtifactStoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "Directory") {
      auto store = std::make_unique<DirectoryStore>(dir_ / "store");
      ASSERT_TRUE(store->Init().ok());
      store_ = std::move(store);
    } else if (GetParam() == "S3") {
      std::string missing;
      ASSERT_TRUE(testing::S3TestServerInstalled(&missing)) << missing;
      s3_ = std::make_unique<testing::S3TestServer>(dir_ / "s3");
      ASSERT_TRUE(s3_->running()) << s3_->Output();
      s3::S3StoreOptions options;
      options.location.endpoint = s3_->endpoint();
      options.location.bucket = s3_->bucket();
      options.location.access_key = s3_->access_key();
      options.location.secret_key = s3_->secret_key();
      options.prefix = "contract";
      auto store = s3::S3Store::Open(options);
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = std::move(*store);
    } else {
      store_ = std::make_unique<testing::MemoryStore>();
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::S3TestServer> s3_;
  std::unique_ptr<ArtifactStore> store_;
};

TEST_P(ArtifactStoreContractTest, CommittedBytesReadBackWithTheirDigest) {
  const std::string key = ArtifactStore::RelativePath("ns", "dx", "s1", "a");
  const std::string bytes(3 << 20, 'q');  // more than one read's worth
  auto pending = store_->Begin(key);
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_TRUE((*pending)->Append(bytes.data(), 5).ok());
  ASSERT_TRUE((*pending)->Append(bytes.data() + 5, bytes.size() - 5).ok());
  EXPECT_EQ(store_->Stat(key).status().code(), absl::StatusCode::kNotFound)
      << "not visible before Commit";
  EXPECT_TRUE(KeysOf(*store_, "").empty()) << "nor listed";
  ASSERT_TRUE((*pending)->Commit(DigestOf(bytes)).ok());
  EXPECT_EQ((*pending)->sha256(), DigestOf(bytes));
  EXPECT_EQ((*pending)->bytes(), bytes.size());
  EXPECT_EQ(*store_->Stat(key), bytes.size());
  EXPECT_EQ(*ReadObject(*store_, key), bytes);
  EXPECT_EQ((*pending)->Append("x", 1).code(),
            absl::StatusCode::kFailedPrecondition)
      << "no append to a committed object";
  EXPECT_EQ(store_->Begin(key).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_P(ArtifactStoreContractTest, ADigestMismatchStoresNothing) {
  auto pending = store_->Begin("ns/dx/s1/a");
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE((*pending)->Append("hello", 5).ok());
  EXPECT_EQ((*pending)->Commit(DigestOf("tampered")).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->Stat("ns/dx/s1/a").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Open("ns/dx/s1/a").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(KeysOf(*store_, "").empty());
  EXPECT_TRUE(PutObject(*store_, "ns/dx/s1/a", "again").ok())
      << "the key is free for another try";
}

TEST_P(ArtifactStoreContractTest, AbandonedOrDroppedWritesLeaveNothing) {
  {
    auto dropped = store_->Begin("ns/dx/s1/dropped");
    ASSERT_TRUE(dropped.ok());
    ASSERT_TRUE((*dropped)->Append("half", 4).ok());
  }
  auto abandoned = store_->Begin("ns/dx/s1/abandoned");
  ASSERT_TRUE(abandoned.ok());
  ASSERT_TRUE((*abandoned)->Append("half", 4).ok());
  (*abandoned)->Abandon();
  EXPECT_EQ((*abandoned)->Commit("").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(KeysOf(*store_, "").empty());
  EXPECT_EQ(store_->Stat("ns/dx/s1/abandoned").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(ArtifactStoreContractTest, AnUncommittedObjectIsNeverListed) {
  ASSERT_TRUE(PutObject(*store_, "ns/dx/s1/done", "d").ok());
  auto writing = store_->Begin("ns/dx/s1/writing");
  ASSERT_TRUE(writing.ok());
  ASSERT_TRUE((*writing)->Append("w", 1).ok());
  EXPECT_EQ(KeysOf(*store_, ""), std::vector<std::string>{"ns/dx/s1/done"});
  EXPECT_EQ(KeysOf(*store_, "ns/dx/s1/"),
            std::vector<std::string>{"ns/dx/s1/done"});
  ASSERT_TRUE((*writing)->Commit("").ok());
  EXPECT_EQ(KeysOf(*store_, "").size(), 2u);
}

TEST_P(ArtifactStoreContractTest, ListStatAndRemove) {
  ASSERT_TRUE(PutObject(*store_, "ns/dx/s1/b", "bb").ok());
  ASSERT_TRUE(PutObject(*store_, "ns/dx/s1/a", "a").ok());
  ASSERT_TRUE(PutObject(*store_, "ns/dx/s10/a", "a").ok());
  ASSERT_TRUE(PutObject(*store_, "other/dx/s2/a", "aaa").ok());
  EXPECT_EQ(KeysOf(*store_, "ns/dx/s1/"),
            (std::vector<std::string>{"ns/dx/s1/a", "ns/dx/s1/b"}));
  EXPECT_EQ(KeysOf(*store_, "").size(), 4u);
  auto listed = store_->List("other/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].bytes, 3u);
  EXPECT_EQ(*store_->Stat("ns/dx/s1/b"), 2u);
  EXPECT_EQ(store_->Stat("ns/dx/s1/c").status().code(),
            absl::StatusCode::kNotFound);

  ASSERT_TRUE(store_->Remove("ns/dx/s1/b").ok());
  EXPECT_EQ(store_->Stat("ns/dx/s1/b").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->Remove("ns/dx/s1/b").ok()) << "removing twice is fine";
  EXPECT_EQ(KeysOf(*store_, "ns/dx/s1/"),
            std::vector<std::string>{"ns/dx/s1/a"});

  // A catalog that knows none of the store's sets is not the store's:
  // nothing is removed.
  auto refused =
      Reconcile(*store_, {}, [](const std::string&) { return false; });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("of no set the catalog knows"),
            std::string::npos)
      << refused.status();
  EXPECT_EQ(KeysOf(*store_, "").size(), 3u);
  // Otherwise an orphan of a known set goes; objects of unknown sets stay.
  auto reconciled =
      Reconcile(*store_, {"ns/dx/s1/a"},
                [](const std::string& id) { return id == "s10"; });
  ASSERT_TRUE(reconciled.ok()) << reconciled.status();
  EXPECT_EQ(reconciled->removed, std::vector<std::string>{"ns/dx/s10/a"});
  EXPECT_EQ(reconciled->left, std::vector<std::string>{"other/dx/s2/a"});
  EXPECT_EQ(KeysOf(*store_, ""),
            (std::vector<std::string>{"ns/dx/s1/a", "other/dx/s2/a"}));
  ASSERT_TRUE(store_->Remove("other/dx/s2/a").ok());
  EXPECT_EQ(KeysOf(*store_, ""), std::vector<std::string>{"ns/dx/s1/a"});
}

TEST_P(ArtifactStoreContractTest, RefusesKeysThatAreNotPlainRelativePaths) {
  for (const std::string& key :
       {ArtifactStore::RelativePath("ns", "dx", "set1",
                                    "core-x/../../../../escaped/y.tar.zst"),
        std::string("/abs/file"), std::string("ns//dx/f"),
        std::string("ns/./dx/f"), std::string(""), std::string(".."),
        std::string("../outside")}) {
    EXPECT_EQ(store_->Begin(key).status().code(),
              absl::StatusCode::kInvalidArgument)
        << key;
    EXPECT_EQ(store_->Open(key).status().code(),
              absl::StatusCode::kInvalidArgument)
        << key;
    EXPECT_EQ(store_->Stat(key).status().code(),
              absl::StatusCode::kInvalidArgument)
        << key;
    EXPECT_EQ(store_->Remove(key).code(), absl::StatusCode::kInvalidArgument)
        << key;
  }
  EXPECT_EQ(store_->List("../").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(KeysOf(*store_, "").empty());
}

TEST_P(ArtifactStoreContractTest, ANamespaceQuotaRefusesWhatWouldPassIt) {
  store_->set_namespace_quota(100);
  const std::string sixty(60, 'x');
  auto first = store_->Begin("ns-a/dx/set1/a");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Append(sixty.data(), sixty.size()).ok());
  auto second = store_->Begin("ns-a/dx/set1/b");
  ASSERT_TRUE(second.ok());
  absl::Status over = (*second)->Append(sixty.data(), sixty.size());
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(over.message().find("namespace ns-a"), std::string::npos)
      << over.message();
  ASSERT_TRUE((*first)->Commit("").ok());
  (*second)->Abandon();
  EXPECT_TRUE(PutObject(*store_, "ns-b/dx/set2/a", sixty).ok())
      << "each namespace has its own quota";
  auto third = store_->Begin("ns-a/dx/set3/a");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)->Append(sixty.data(), sixty.size()).code(),
            absl::StatusCode::kResourceExhausted)
      << "committed bytes count";
  EXPECT_TRUE((*third)->Append(sixty.data(), 40).ok()) << "up to the quota";
  (*third)->Abandon();
  ASSERT_TRUE(store_->Remove("ns-a/dx/set1/a").ok());
  auto fourth = store_->Begin("ns-a/dx/set4/a");
  ASSERT_TRUE(fourth.ok());
  EXPECT_TRUE((*fourth)->Append(sixty.data(), sixty.size()).ok())
      << "removed bytes are free again";
}

// A replica taking one deployment over clears what writes left under its
// prefix only: other replicas are writing elsewhere in the same store.
TEST_P(ArtifactStoreContractTest, UnfinishedWritesGoOnlyUnderThePrefixGiven) {
  auto theirs = store_->Begin("ns/other/s2/a");
  ASSERT_TRUE(theirs.ok());
  ASSERT_TRUE((*theirs)->Append("t", 1).ok());
  auto mine = store_->Begin("ns/dx/s1/a");
  ASSERT_TRUE(mine.ok());
  ASSERT_TRUE((*mine)->Append("m", 1).ok());
  auto removed = store_->RemoveUnfinished("ns/dx/");
  ASSERT_TRUE(removed.ok()) << removed.status();
  for (const std::string& key : *removed) {
    EXPECT_EQ(key.rfind("ns/dx/", 0), 0u) << key;
  }
  EXPECT_TRUE((*theirs)->Commit("").ok())
      << "another deployment's write was left alone";
  // The directory's partial file is gone, and cannot commit. (The memory
  // store's unfinished writes live in their writers, and so do the S3
  // store's below a part: nothing of them is left to remove.)
  if (GetParam() == "Directory") {
    EXPECT_FALSE(removed->empty());
    EXPECT_FALSE((*mine)->Commit("").ok());
    EXPECT_TRUE(KeysOf(*store_, "ns/dx/").empty());
  }
  EXPECT_EQ(KeysOf(*store_, "ns/other/"),
            std::vector<std::string>{"ns/other/s2/a"});
  for (const char* hostile : {"../x/", "ns/../../x/", "ns//x/", "./ns/"}) {
    EXPECT_EQ(store_->RemoveUnfinished(hostile).status().code(),
              GetParam() == "Directory" ? absl::StatusCode::kInvalidArgument
                                        : absl::StatusCode::kOk)
        << hostile;
  }
}

TEST_P(ArtifactStoreContractTest, AReconcileUnderAPrefixRemovesOnlyItsOrphans) {
  for (const char* key : {"ns/dx/s1/known", "ns/dx/s1/orphan",
                          "ns/dx/gone/unknown", "ns/other/s1/orphan"}) {
    ASSERT_TRUE(PutObject(*store_, key, "x").ok());
  }
  auto reconciled = Reconcile(
      *store_, {"ns/dx/s1/known"},
      [](const std::string& id) { return id == "s1"; }, "ns/dx/");
  ASSERT_TRUE(reconciled.ok()) << reconciled.status();
  EXPECT_EQ(reconciled->removed, std::vector<std::string>{"ns/dx/s1/orphan"});
  EXPECT_EQ(reconciled->left, std::vector<std::string>{"ns/dx/gone/unknown"});
  EXPECT_EQ(KeysOf(*store_, ""),
            (std::vector<std::string>{"ns/dx/gone/unknown", "ns/dx/s1/known",
                                      "ns/other/s1/orphan"}));
  // Only unknown sets' objects under the prefix: left, and no error (the
  // whole store's reconcile refuses that, as the catalog may not be its).
  auto only_unknown = Reconcile(
      *store_, {}, [](const std::string&) { return false; }, "ns/dx/gone/");
  ASSERT_TRUE(only_unknown.ok()) << only_unknown.status();
  EXPECT_EQ(only_unknown->left, std::vector<std::string>{"ns/dx/gone/unknown"});
}

INSTANTIATE_TEST_SUITE_P(StoreKinds, ArtifactStoreContractTest,
                         ::testing::Values("Directory", "S3", "Memory"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dxbackup::scheduler
