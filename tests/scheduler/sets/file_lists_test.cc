// A set's file index moved from the catalog to a list in the store reads
// back exactly as the catalog's rows did — for `files` with every kind of
// selection, `find --older` and drills — sealed for an encrypted namespace,
// and a damaged list or a failed move loses nothing.
#include "scheduler/sets/file_lists.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scheduler/sets/tiered_file_index.h"
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
    lists_ = std::make_unique<FileLists>(&catalog_, &store_, keys_.get());
    index_ = std::make_unique<TieredFileIndex>(&catalog_, &catalog_,
                                               lists_.get(), true);
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
  EXPECT_EQ(moved.file_list().path(), "ns/dx/s1/core-profile.files.zst");
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
                     "new:d9/wps.properties@200/ns/core/profile"}));
  EXPECT_TRUE(catalog_only->older_not_searched());

  auto whole_fleet = find(true, "");
  EXPECT_EQ(whole_fleet.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(whole_fleet.status().message().find("--namespace"),
            std::string::npos);

  auto older = find(true, "ns");
  ASSERT_TRUE(older.ok()) << older.status();
  EXPECT_EQ(sets_of(*older),
            (Strings{"new:d9/wps.properties@200/ns/core/profile",
                     "old:d9/wps.properties@100/ns/core/profile",
                     "older:d9/wps.properties@50/ns/core/profile"}));
  EXPECT_FALSE(older->truncated());
  EXPECT_FALSE(older->older_not_searched());

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
  EXPECT_EQ(moved.file_list().path(), "prod/dx/s1/core-profile.files.zst.age");
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
  EXPECT_EQ(store_.Stat("ns/dx/s1/core-gone.files.zst").status().code(),
            absl::StatusCode::kNotFound)
      << "the list written is removed again";
  EXPECT_EQ(Listing(catalog_, "s1", "core/gone")->size(), 1u);

  // A list an interrupted move left (no row names it) is written again.
  AddSet("s2", 200);
  v1::Artifact s2 = Recorded("s2", "core/profile");
  auto leftover = store_.Begin("ns/dx/s2/core-profile.files.zst");
  ASSERT_TRUE(leftover.ok());
  ASSERT_TRUE((*leftover)->Commit("").ok());
  ASSERT_TRUE(lists_->Move(s2).ok());
  EXPECT_EQ(Listing(*index_, "s2")->size(), 2501u);
}

TEST(FileListPathTest, ReplacesTheTarSuffixAndKeepsEncryption) {
  v1::Artifact a;
  a.set_path("ns/dx/s1/core-profile.tar.zst");
  EXPECT_EQ(FileListPath(a), "ns/dx/s1/core-profile.files.zst");
  a.set_path("ns/dx/s1/core-profile.tar.gz.age");
  EXPECT_EQ(FileListPath(a), "ns/dx/s1/core-profile.files.zst.age");
  a.set_path("ns/dx/s1/dam-upload.tar");
  EXPECT_EQ(FileListPath(a), "ns/dx/s1/dam-upload.files.zst");
}

TEST(UnderPrefixTest, SelectsThePathAndWhatIsBelowIt) {
  EXPECT_TRUE(UnderPrefix("a/b", "a/b"));
  EXPECT_TRUE(UnderPrefix("a/b/c", "a/b/"));
  EXPECT_FALSE(UnderPrefix("a/bc", "a/b"));
  EXPECT_TRUE(UnderPrefix("anything", ""));
  EXPECT_TRUE(UnderPrefix("anything", "/"));
}

TEST(MatchesFindPatternTest, MatchesAsTheCatalogsGlob) {
  EXPECT_TRUE(MatchesFindPattern("wps.*", "a/b/wps.properties"));
  EXPECT_FALSE(MatchesFindPattern("WPS.*", "a/b/wps.properties"));
  EXPECT_TRUE(MatchesFindPattern("*/wps.properties", "a/b/wps.properties"))
      << "'*' crosses '/'";
  EXPECT_FALSE(MatchesFindPattern("b/wps.properties", "a/b/wps.properties"))
      << "a pattern with '/' matches the whole path";
  EXPECT_TRUE(MatchesFindPattern("f[0-9].xml", "d/f7.xml"));
  EXPECT_TRUE(MatchesFindPattern("a\\b", "a\\b")) << "no escape character";
}

}  // namespace
}  // namespace dxbackup::scheduler
