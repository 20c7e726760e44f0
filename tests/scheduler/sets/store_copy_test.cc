#include "scheduler/sets/store_copy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "common/sha256.h"
#include "tests/support/locking_store.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"

namespace dxbackup::scheduler {
namespace {

using testing::PutObject;

std::string DigestOf(const std::string& s) {
  common::Sha256 h;
  h.Update(s);
  return h.HexDigest();
}

class StoreCopyTest : public ::testing::Test {
 protected:
  // A complete set `id` started at `unix`, with one artifact.
  void AddSet(const std::string& id, int64_t started_unix) {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_("ns");
    set.set_release("dx");
    set.set_status(v1::SET_COMPLETE);
    set.set_started_unix(started_unix);
    ASSERT_TRUE(catalog_.CreateSet(set).ok());
    const std::string bytes = "volume of " + id;
    v1::Artifact a;
    a.set_set_id(id);
    a.set_target("core/data");
    a.set_path(ArtifactStore::RelativePath("ns", "dx", id, "core-data.tar"));
    a.set_bytes(bytes.size());
    a.set_sha256(DigestOf(bytes));
    ASSERT_TRUE(catalog_.AddArtifact(a).ok());
    ASSERT_TRUE(PutObject(primary_, a.path(), bytes).ok());
  }

  std::vector<std::string> CopyKeys() {
    std::vector<std::string> keys;
    auto listed = copies_.List("");
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (listed.ok()) {
      for (const StoredObject& o : *listed) keys.push_back(o.key);
    }
    return keys;
  }

  testing::MemoryCatalog catalog_;
  testing::MemoryStore primary_, copies_;
  v1::Retention keep_one_;
};

TEST_F(StoreCopyTest, ACopyIsTheExportWithItsManifestLastAndIsNotWrittenTwice) {
  AddSet("20260101T000000Z-aaaa", 1767225600);
  ASSERT_TRUE(CopySetToStore(catalog_, primary_, copies_,
                             "20260101T000000Z-aaaa", keep_one_, 1767225700)
                  .ok());
  const std::string dir = "ns/dx/20260101T000000Z-aaaa/";
  EXPECT_EQ(CopyKeys(), (std::vector<std::string>{
                            dir + "RESTORE.txt", dir + "SHA256SUMS",
                            dir + "core-data.tar", dir + "manifest.json"}));
  EXPECT_EQ(*testing::ReadObject(copies_, dir + "core-data.tar"),
            "volume of 20260101T000000Z-aaaa");
  EXPECT_TRUE(CopySetToStore(catalog_, primary_, copies_,
                             "20260101T000000Z-aaaa", keep_one_, 1767225800)
                  .ok())
      << "copying again finds the manifest and writes nothing";
}

TEST_F(StoreCopyTest, ARetryAfterACrashKeepsWhatWasCommitted) {
  AddSet("20260101T000000Z-aaaa", 1767225600);
  const std::string dir = "ns/dx/20260101T000000Z-aaaa/";
  ASSERT_TRUE(PutObject(copies_, dir + "core-data.tar",
                        "volume of 20260101T000000Z-aaaa")
                  .ok());  // what a crash left: no manifest
  ASSERT_TRUE(CopySetToStore(catalog_, primary_, copies_,
                             "20260101T000000Z-aaaa", keep_one_, 1767225700)
                  .ok());
  EXPECT_EQ(CopyKeys().size(), 4u);
}

TEST_F(StoreCopyTest, ACorruptArtifactIsNotCopied) {
  AddSet("20260101T000000Z-aaaa", 1767225600);
  const std::string key = "ns/dx/20260101T000000Z-aaaa/core-data.tar";
  ASSERT_TRUE(primary_.Remove(key).ok());
  ASSERT_TRUE(PutObject(primary_, key, "volume of 20260101T000000Z-aaab").ok());
  absl::Status s =
      CopySetToStore(catalog_, primary_, copies_, "20260101T000000Z-aaaa",
                     keep_one_, 1767225700);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(CopyKeys().empty()) << "no manifest, no artifact";
}

TEST_F(StoreCopyTest, RetentionKeepsItsCopiesAndRemovesACrashsRemains) {
  AddSet("20260101T000000Z-aaaa", 1767225600);
  AddSet("20260102T000000Z-bbbb", 1767312000);
  ASSERT_TRUE(PutObject(copies_, "ns/dx/20251231T000000Z-cccc/core-data.tar",
                        "remains of a crashed copy")
                  .ok());
  ASSERT_TRUE(PutObject(copies_, "other/dx/20251231T000000Z-dddd/x", "x").ok());
  for (const char* id : {"20260101T000000Z-aaaa", "20260102T000000Z-bbbb"}) {
    ASSERT_TRUE(
        CopySetToStore(catalog_, primary_, copies_, id, keep_one_, 1767312100)
            .ok());
  }
  keep_one_.set_keep_last(1);
  ASSERT_TRUE(PruneStoreCopies(copies_, "ns", "dx", keep_one_,
                               absl::UTCTimeZone(),
                               absl::FromUnixSeconds(1767312200))
                  .ok());
  std::vector<std::string> left = CopyKeys();
  EXPECT_EQ(left.size(), 5u);
  for (const std::string& key : left) {
    EXPECT_TRUE(key.rfind("ns/dx/20260102T000000Z-bbbb/", 0) == 0 ||
                key == "other/dx/20251231T000000Z-dddd/x")
        << key << " should have gone";
  }
}

// A copy store whose reads of one key fail as a bucket under a SlowDown
// storm would.
class FlakyStore : public testing::MemoryStore {
 public:
  std::string failing_key;

 protected:
  absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenObject(
      const std::string& key) override {
    if (key == failing_key) {
      return absl::UnavailableError("SlowDown (gave up after 6 attempts)");
    }
    return MemoryStore::OpenObject(key);
  }
};

TEST_F(StoreCopyTest, AManifestThatCannotBeReadNowIsNotAMissingOne) {
  AddSet("20260101T000000Z-aaaa", 1767225600);
  AddSet("20260102T000000Z-bbbb", 1767312000);
  FlakyStore copies;
  for (const char* id : {"20260101T000000Z-aaaa", "20260102T000000Z-bbbb"}) {
    ASSERT_TRUE(
        CopySetToStore(catalog_, primary_, copies, id, keep_one_, 1767312100)
            .ok());
  }
  copies.failing_key = "ns/dx/20260101T000000Z-aaaa/manifest.json";
  v1::Retention keep_all;
  keep_all.set_keep_last(5);
  absl::Status s =
      PruneStoreCopies(copies, "ns", "dx", keep_all, absl::UTCTimeZone(),
                       absl::FromUnixSeconds(1767312200));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(copies.Stat("ns/dx/20260101T000000Z-aaaa/core-data.tar").ok())
      << "a whole copy whose manifest could not be read just now was "
         "taken for a crash's remains and removed";
}

using testing::LockingStore;  // a copy bucket with Object Lock

TEST_F(StoreCopyTest, LockedCopiesStayUntilTheirLockEnds) {
  AddSet("20260101T000000Z-aaaa", 1767225600);
  AddSet("20260102T000000Z-bbbb", 1767312000);
  LockingStore copies;
  v1::Retention week;  // kept a week at least, then the newest one only
  week.set_keep_within("7d");
  week.set_keep_last(1);
  copies.now_unix = 1767312100;
  for (const char* id : {"20260101T000000Z-aaaa", "20260102T000000Z-bbbb"}) {
    ASSERT_TRUE(
        CopySetToStore(catalog_, primary_, copies, id, week, copies.now_unix)
            .ok());
  }
  const std::string first = "ns/dx/20260101T000000Z-aaaa/";
  // Every object: the set's start + 7 days + the store's day.
  EXPECT_EQ(copies.locks[first + "core-data.tar"],
            1767225600 + 7 * 86400 + 86400);
  EXPECT_EQ(copies.locks[first + "manifest.json"],
            1767225600 + 7 * 86400 + 86400);

  // Past keep_within but inside the lock: retention would remove the
  // first copy (keep_last 1), and the lock keeps it.
  week.clear_keep_within();
  copies.now_unix = 1767225600 + 7 * 86400 + 3600;
  ASSERT_TRUE(PruneStoreCopies(copies, "ns", "dx", week, absl::UTCTimeZone(),
                               absl::FromUnixSeconds(copies.now_unix))
                  .ok());
  EXPECT_TRUE(copies.early_removals.empty())
      << "tried to remove " << copies.early_removals[0];
  EXPECT_TRUE(copies.Stat(first + "manifest.json").ok());

  copies.now_unix = 1767225600 + 9 * 86400;
  ASSERT_TRUE(PruneStoreCopies(copies, "ns", "dx", week, absl::UTCTimeZone(),
                               absl::FromUnixSeconds(copies.now_unix))
                  .ok());
  EXPECT_FALSE(copies.Stat(first + "manifest.json").ok()) << "lock ended";
  EXPECT_TRUE(copies.early_removals.empty());
}

}  // namespace
}  // namespace dxbackup::scheduler
