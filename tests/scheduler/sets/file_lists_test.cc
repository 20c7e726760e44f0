// A set's file index moved from the catalog to a list in the store reads
// back exactly as the catalog's rows did — for `files` with every kind of
// selection, `find --older` and drills — sealed for an encrypted namespace,
// and a damaged list or a failed move loses nothing.
#include "scheduler/sets/file_lists.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "scheduler/sets/tiered_file_index.h"
#include "tests/support/locking_store.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/memory_store.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

using Strings = std::vector<std::string>;

class FileListsTest : public ::testing::Test {
 protected:
  void SetUp() override { UseKeys(v1::SchedulerConfig()); }

  void UseKeys(const v1::SchedulerConfig& config) {
    auto ring = crypto::KeyRing::Load(config);
    ASSERT_TRUE(ring.ok()) << ring.status();
    keys_ = std::move(*ring);
    lists_ =
        std::make_unique<FileLists>(&catalog_, &catalog_, &store_, keys_.get());
    index_ =
        std::make_unique<TieredFileIndex>(&catalog_, &catalog_, lists_.get());
  }

  // Set `id` of ns/dx started at `started`, with a volume artifact of
  // `target` (`files` entries under d0/ … d9/) and a database dump.
  v1::Artifact AddSet(const std::string& id, int64_t started,
                      const std::string& ns = "ns", int files = 2500,
                      const std::string& target = "core/profile",
                      const std::string& suffix = "") {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_(ns);
    set.set_release("dx");
    set.set_started_unix(started);
    set.set_status(v1::SET_COMPLETE);
    EXPECT_TRUE(catalog_.CreateSet(set).ok());
    v1::Artifact volume;
    volume.set_set_id(id);
    volume.set_target(target);
    volume.set_kind(v1::ARTIFACT_VOLUME_TAR);
    volume.set_path(
        absl::StrCat(ns, "/dx/", id, "/core-profile.tar.zst", suffix));
    EXPECT_TRUE(catalog_.AddArtifact(volume).ok());
    v1::Artifact dump;
    dump.set_set_id(id);
    dump.set_target("db/wpsdb");
    dump.set_kind(v1::ARTIFACT_PG_DUMP);
    dump.set_path(absl::StrCat(ns, "/dx/", id, "/wpsdb.pgdump.zst"));
    EXPECT_TRUE(catalog_.AddArtifact(dump).ok());
    google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
    for (int i = 0; i < files; ++i) {
      v1::FileEntry* e = entries.Add();
      const bool dir = i % 250 == 0;
      e->set_path(dir ? absl::StrCat("d", i / 250)
                      : absl::StrCat("d", i / 250, "/f", i, ".xml"));
      e->set_type(dir ? "dir" : "file");
      e->set_size(static_cast<uint64_t>(i) * 17);
      e->set_mode(0640);
      e->set_mtime_unix(1700000000 + i);
      e->set_inode(static_cast<uint64_t>(i) + 1000);
      e->set_unchanged(i % 3 == 0);
    }
    v1::FileEntry* wps = entries.Add();  // a version in every set
    wps->set_path("d9/wps.properties");
    wps->set_type("file");
    wps->set_size(id.size());
    EXPECT_TRUE(catalog_.AddFiles(id, target, entries).ok());
    return Recorded(id, target);
  }
  v1::Artifact Recorded(const std::string& set, const std::string& target) {
    auto artifacts = catalog_.ListArtifacts(set);
    EXPECT_TRUE(artifacts.ok());
    for (const v1::Artifact& a : *artifacts) {
      if (a.target() == target) return a;
    }
    ADD_FAILURE() << "no artifact " << target << " in " << set;
    return v1::Artifact();
  }

  // What a listing returns, one string per file; `stop_after` ends it.
  absl::StatusOr<Strings> Listing(FileIndex& index, const std::string& set,
                                  const std::string& target = "",
                                  const std::string& prefix = "",
                                  const std::string& identities = "",
                                  size_t stop_after = 1 << 30) {
    v1::ListFilesRequest request;
    request.set_set_id(set);
    request.set_target(target);
    request.set_path_prefix(prefix);
    request.set_identities(identities);
    Strings seen;
    absl::Status s = index.ForEachFile(request, [&](const v1::IndexedFile& f) {
      seen.push_back(f.ShortDebugString());
      return seen.size() < stop_after;
    });
    if (!s.ok()) return s;
    return seen;
  }

  testing::MemoryCatalog catalog_;
  testing::MemoryStore store_;
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<FileLists> lists_;
  std::unique_ptr<TieredFileIndex> index_;
};

TEST_F(FileListsTest, AMovedIndexListsExactlyAsTheCatalogsRowsDid) {
  const v1::Artifact volume = AddSet("s1", 100);
  struct Query {
    std::string target, prefix;
    size_t stop_after;
  };
  const std::vector<Query> queries = {{"", "", 1 << 30},
                                      {"core/profile", "", 1 << 30},
                                      {"", "d3", 1 << 30},
                                      {"", "d3/", 1 << 30},
                                      {"", "d3/f801.xml", 1 << 30},
                                      {"db/wpsdb", "", 1 << 30},
                                      {"", "", 7}};
  std::vector<Strings> before;
  for (const Query& q : queries) {
    auto listed = Listing(*index_, "s1", q.target, q.prefix, "", q.stop_after);
    ASSERT_TRUE(listed.ok()) << listed.status();
    before.push_back(*listed);
  }
  ASSERT_EQ(before[0].size(), 2501u);
  ASSERT_EQ(before[3].size(), 250u);

  ASSERT_TRUE(lists_->Move(volume).ok());

  const v1::Artifact moved = Recorded("s1", "core/profile");
  EXPECT_EQ(moved.file_list().path(),
            "ns/dx/s1/core-profile.tar.zst.files.zst");
  EXPECT_EQ(moved.file_list().entries(), 2501u);
  EXPECT_EQ(moved.file_list().bytes(), *store_.Stat(moved.file_list().path()));
  EXPECT_EQ(moved.file_list().sha256().size(), 64u);
  EXPECT_EQ(Listing(catalog_, "s1")->size(), 0u) << "the rows left the catalog";
  for (size_t i = 0; i < queries.size(); ++i) {
    auto listed = Listing(*index_, "s1", queries[i].target, queries[i].prefix,
                          "", queries[i].stop_after);
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_EQ(*listed, before[i]) << "query " << i;
  }
  // Each entry costs the store a few bytes where the catalog kept a row.
  EXPECT_LT(moved.file_list().bytes(), 2501u * 20);
}

TEST_F(FileListsTest, FindSearchesStoredListsOnlyWhenAskedWithANamespace) {
  {
    v1::FindFilesRequest nothing_moved;
    nothing_moved.set_pattern("wps.*");
    AddSet("first", 10);
    auto found = index_->FindFiles(nothing_moved);
    ASSERT_TRUE(found.ok());
    EXPECT_FALSE(found->older_not_searched()) << "no list exists yet";
  }
  ASSERT_TRUE(lists_->Move(AddSet("old", 100)).ok());
  ASSERT_TRUE(lists_->Move(AddSet("older", 50)).ok());
  AddSet("new", 200);
  AddSet("elsewhere", 300, "other");

  auto find = [&](bool older, const std::string& ns, int limit = 0) {
    v1::FindFilesRequest request;
    request.set_pattern("wps.*");
    request.set_namespace_(ns);
    request.set_older(older);
    request.set_limit(limit);
    return index_->FindFiles(request);
  };
  auto sets_of = [](const v1::FindFilesResponse& r) {
    Strings sets;
    for (const auto& f : r.files()) {
      sets.push_back(f.set_id() + ":" + f.entry().path() + "@" +
                     std::to_string(f.set_started_unix()) + "/" +
                     f.namespace_() + "/" + f.target());
    }
    return sets;
  };

  auto catalog_only = find(false, "");
  ASSERT_TRUE(catalog_only.ok());
  EXPECT_EQ(sets_of(*catalog_only),
            (Strings{"elsewhere:d9/wps.properties@300/other/core/profile",
                     "new:d9/wps.properties@200/ns/core/profile",
                     "first:d9/wps.properties@10/ns/core/profile"}));
  EXPECT_TRUE(catalog_only->older_not_searched());

  auto whole_fleet = find(true, "");
  EXPECT_EQ(whole_fleet.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(whole_fleet.status().message().find("--namespace"),
            std::string::npos);

  auto older = find(true, "ns");
  ASSERT_TRUE(older.ok()) << older.status();
  EXPECT_EQ(sets_of(*older),
            (Strings{"new:d9/wps.properties@200/ns/core/profile",
                     "first:d9/wps.properties@10/ns/core/profile",
                     "old:d9/wps.properties@100/ns/core/profile",
                     "older:d9/wps.properties@50/ns/core/profile"}))
      << "the catalog's rows, then the lists, newest set first";
  EXPECT_FALSE(older->truncated());
  EXPECT_FALSE(older->older_not_searched());

  // Found in review: a set being removed (its list already gone) failed
  // the whole search.
  v1::BackupSet expiring = *catalog_.GetSet("older");
  expiring.set_status(v1::SET_EXPIRING);
  ASSERT_TRUE(catalog_.UpdateSet(expiring).ok());
  ASSERT_TRUE(
      store_.Remove(Recorded("older", "core/profile").file_list().path()).ok());
  auto without_expiring = find(true, "ns");
  ASSERT_TRUE(without_expiring.ok()) << without_expiring.status();
  EXPECT_EQ(without_expiring->files_size(), 3);  // new, first, old

  auto limited = find(true, "ns", 2);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->files_size(), 2);
  EXPECT_TRUE(limited->truncated());

  // A path glob, and an unchanged entry is no version.
  v1::FindFilesRequest paths;
  paths.set_pattern("d1/f3*.xml");
  paths.set_namespace_("ns");
  paths.set_older(true);
  auto by_path = index_->FindFiles(paths);
  ASSERT_TRUE(by_path.ok());
  int in_old = 0;
  for (const auto& f : by_path->files()) {
    EXPECT_FALSE(f.entry().unchanged());
    if (f.set_id() == "old") ++in_old;
  }
  EXPECT_EQ(in_old, 66);  // f300 … f399, less the 34 multiples of 3
}

TEST_F(FileListsTest, AnEncryptedNamespacesListIsSealedAndNeedsItsKey) {
  testing::TempDir dir;
  auto identity = crypto::Identity::Generate();
  ASSERT_TRUE(identity.ok());
  testing::WriteFile(dir / "prod.txt", identity->recipient().ToString() + "\n");
  v1::SchedulerConfig config;
  v1::EncryptionKey* key = config.mutable_encryption()->add_keys();
  key->add_namespaces("prod");
  key->set_recipients_file(dir / "prod.txt");
  UseKeys(config);
  const v1::Artifact volume =
      AddSet("s1", 100, "prod", 300, "core/profile", ".age");
  auto before = Listing(*index_, "s1");
  ASSERT_TRUE(before.ok());

  ASSERT_TRUE(lists_->Move(volume).ok());
  const v1::Artifact moved = Recorded("s1", "core/profile");
  EXPECT_EQ(moved.file_list().path(),
            "prod/dx/s1/core-profile.tar.zst.files.zst.age");
  EXPECT_EQ(moved.file_list().encrypted_for(),
            identity->recipient().ToString());

  auto without_key = Listing(*index_, "s1");
  EXPECT_EQ(without_key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(
      without_key.status().message().find(identity->recipient().ToString()),
      std::string::npos)
      << without_key.status();
  auto wrong = crypto::Identity::Generate();
  auto wrong_key =
      Listing(*index_, "s1", "", "", wrong->SecretKeyString() + "\n");
  EXPECT_EQ(wrong_key.status().code(), absl::StatusCode::kPermissionDenied)
      << wrong_key.status();
  auto with_key =
      Listing(*index_, "s1", "", "", identity->SecretKeyString() + "\n");
  ASSERT_TRUE(with_key.ok()) << with_key.status();
  EXPECT_EQ(*with_key, *before);
}

TEST_F(FileListsTest, ADamagedListIsDataLossNamingTheSetAndVolume) {
  const v1::Artifact volume = AddSet("s1", 100);
  ASSERT_TRUE(lists_->Move(volume).ok());
  const std::string path = Recorded("s1", "core/profile").file_list().path();
  auto stored = store_.Open(path);
  ASSERT_TRUE(stored.ok());
  std::string bytes;
  ASSERT_TRUE(ForEachChunk(**stored, [&](const char* d, size_t n) {
                bytes.append(d, n);
                return absl::OkStatus();
              }).ok());
  bytes[bytes.size() / 2] ^= 0x40;
  store_.Corrupt(path, bytes);
  auto listed = Listing(*index_, "s1");
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kDataLoss)
      << listed.status();
  EXPECT_NE(listed.status().message().find("core/profile in set s1"),
            std::string::npos)
      << listed.status();

  store_.Corrupt(path, bytes.substr(0, 0));
  EXPECT_FALSE(Listing(*index_, "s1").ok()) << "an emptied list";
}

TEST_F(FileListsTest, AMoveTheCatalogRefusesLeavesTheRowsAndNoObject) {
  v1::Artifact volume = AddSet("s1", 100);
  volume.set_target("core/gone");  // rows the catalog has no artifact for
  google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
  entries.Add()->set_path("kept");
  ASSERT_TRUE(catalog_.AddFiles("s1", "core/gone", entries).ok());
  volume.set_path("ns/dx/s1/core-gone.tar.zst");

  absl::Status moved = lists_->Move(volume);
  EXPECT_EQ(moved.code(), absl::StatusCode::kNotFound) << moved;
  EXPECT_NE(moved.message().find("core/gone in set s1"), std::string::npos)
      << moved;
  EXPECT_EQ(store_.Stat("ns/dx/s1/core-gone.tar.zst.files.zst").status().code(),
            absl::StatusCode::kNotFound)
      << "the list written is removed again";
  EXPECT_EQ(Listing(catalog_, "s1", "core/gone")->size(), 1u);

  // A list an interrupted move left (no row names it) is written again.
  AddSet("s2", 200);
  v1::Artifact s2 = Recorded("s2", "core/profile");
  auto leftover = store_.Begin("ns/dx/s2/core-profile.tar.zst.files.zst");
  ASSERT_TRUE(leftover.ok());
  ASSERT_TRUE((*leftover)->Commit("").ok());
  ASSERT_TRUE(lists_->Move(s2).ok());
  EXPECT_EQ(Listing(*index_, "s2")->size(), 2501u);
}

// One list per artifact path: two artifacts never share a list's key.
TEST(FileListPathTest, FollowsTheArtifactsPathAndKeepsEncryption) {
  v1::Artifact a;
  a.set_path("ns/dx/s1/core-profile.tar.zst");
  EXPECT_EQ(FileListPath(a), "ns/dx/s1/core-profile.tar.zst.files.zst");
  a.set_path("ns/dx/s1/core-profile.tar.gz.age");
  EXPECT_EQ(FileListPath(a), "ns/dx/s1/core-profile.tar.gz.files.zst.age");
  a.set_path("ns/dx/s1/core-profile.tar");
  EXPECT_EQ(FileListPath(a), "ns/dx/s1/core-profile.tar.files.zst");
}

// Set `id` of ns/dx, complete, with one volume artifact (locked until
// `lock`) whose index lists `paths`; the artifact as recorded.
v1::Artifact AddIndexedSet(testing::MemoryCatalog& catalog,
                           const std::string& id, int64_t lock,
                           const std::vector<std::string>& paths) {
  v1::BackupSet set;
  set.set_id(id);
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_status(v1::SET_COMPLETE);
  EXPECT_TRUE(catalog.CreateSet(set).ok());
  v1::Artifact volume;
  volume.set_set_id(id);
  volume.set_target("core/profile");
  volume.set_kind(v1::ARTIFACT_VOLUME_TAR);
  volume.set_path("ns/dx/" + id + "/core-profile.tar.zst");
  volume.set_locked_until_unix(lock);
  EXPECT_TRUE(catalog.AddArtifact(volume).ok());
  google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
  for (const std::string& path : paths) entries.Add()->set_path(path);
  EXPECT_TRUE(catalog.AddFiles(id, "core/profile", entries).ok());
  return volume;
}

// A catalog that records the move and then reports a failure, as a
// PostgreSQL commit whose answer was lost does.
class LostAnswerIndex : public testing::MemoryCatalog {
 public:
  absl::Status MoveFilesToStore(const std::string& set_id,
                                const std::string& target,
                                const v1::StoredFileList& list,
                                int64_t locked_until_unix) override {
    absl::Status s = testing::MemoryCatalog::MoveFilesToStore(
        set_id, target, list, locked_until_unix);
    if (!s.ok()) return s;
    return absl::UnavailableError("the connection closed during COMMIT");
  }
};

// Found in review: a failed record removed the list even when the commit
// had gone through, leaving the catalog naming a missing list and no rows;
// and a list the catalog names could be replaced.
TEST(FileListsRecordTest, AListTheCatalogNamesIsNeverRemovedOrReplaced) {
  LostAnswerIndex catalog;
  testing::MemoryStore store;
  crypto::KeyRing keys;
  FileLists lists(&catalog, &catalog, &store, &keys);
  TieredFileIndex index(&catalog, &catalog, &lists);
  const v1::Artifact volume = AddIndexedSet(catalog, "s1", 0, {"a", "b"});

  absl::Status moved = lists.Move(volume);
  EXPECT_EQ(moved.code(), absl::StatusCode::kUnavailable) << moved;
  const std::string path = "ns/dx/s1/core-profile.tar.zst.files.zst";
  EXPECT_TRUE(store.Stat(path).ok()) << "the recorded list was removed";
  v1::ListFilesRequest request;
  request.set_set_id("s1");
  int listed = 0;
  ASSERT_TRUE(index
                  .ForEachFile(request,
                               [&](const v1::IndexedFile&) {
                                 ++listed;
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(listed, 2);

  // Moving it again (a caller that read the artifact before) replaces
  // nothing the catalog names.
  moved = lists.Move(volume);
  EXPECT_EQ(moved.code(), absl::StatusCode::kAlreadyExists) << moved;
  EXPECT_TRUE(store.Stat(path).ok());
}

// Found in review: the list was locked from its writing plus the store's
// margin, and the artifact's lock raised to that: a moved set stayed a
// margin longer, and one whose lock had ended was locked again.
TEST(FileListsRecordTest, AListIsLockedExactlyAsLongAsItsArtifactStillIs) {
  testing::MemoryCatalog catalog;
  testing::LockingStore store;
  store.now_unix = absl::ToUnixSeconds(absl::Now());
  crypto::KeyRing keys;
  FileLists lists(&catalog, &catalog, &store, &keys);
  const int64_t future = store.now_unix + 30 * 86400;
  for (const auto& [id, lock] : std::vector<std::pair<std::string, int64_t>>{
           {"locked", future}, {"ended", 1000}}) {
    ASSERT_TRUE(lists.Move(AddIndexedSet(catalog, id, lock, {"a"})).ok());
    auto artifacts = catalog.ListArtifacts(id);
    ASSERT_TRUE(artifacts.ok());
    EXPECT_EQ(artifacts->at(0).locked_until_unix(), lock) << id;
  }
  EXPECT_EQ(store.locks["ns/dx/locked/core-profile.tar.zst.files.zst"], future);
  EXPECT_EQ(store.locks["ns/dx/ended/core-profile.tar.zst.files.zst"], 0);
}

TEST(UnderPrefixTest, SelectsThePathAndWhatIsBelowIt) {
  EXPECT_TRUE(UnderPrefix("a/b", "a/b"));
  EXPECT_TRUE(UnderPrefix("a/b/c", "a/b/"));
  EXPECT_FALSE(UnderPrefix("a/bc", "a/b"));
  EXPECT_TRUE(UnderPrefix("anything", ""));
  EXPECT_TRUE(UnderPrefix("anything", "/"));
}

}  // namespace
}  // namespace dxbackup::scheduler
