// FileIndexRetention keeps a deployment's newest sets' file index in the
// catalog, and each policy's bases (the newest sound set, the newest sound
// full), and moves the rest to the store; running sets, other deployments
// and sets being removed are left alone.
#include "scheduler/periodic/file_index_retention.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "scheduler/catalog/sqlite_catalog.h"
#include "tests/support/memory_store.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

class FileIndexRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = SqliteCatalog::Open(dir_ / "catalog.db");
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = std::move(*catalog);
    lists_ = std::make_unique<FileLists>(catalog_.get(), catalog_.get(),
                                         &store_, &keys_);
  }

  // A set of ns/`release` with one indexed volume artifact.
  void AddSet(const std::string& id, int64_t started, v1::SetStatus status,
              const std::string& policy, v1::BackupLevel level,
              const std::string& release = "dx") {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_("ns");
    set.set_release(release);
    set.set_started_unix(started);
    set.set_status(status);
    set.set_policy(policy);
    set.set_level(level);
    ASSERT_TRUE(catalog_->CreateSet(set).ok());
    v1::Artifact volume;
    volume.set_set_id(id);
    volume.set_target("core/profile");
    volume.set_kind(v1::ARTIFACT_VOLUME_TAR);
    volume.set_path("ns/" + release + "/" + id + "/core-profile.tar.zst");
    ASSERT_TRUE(catalog_->AddArtifact(volume).ok());
    google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
    entries.Add()->set_path("wps.properties");
    ASSERT_TRUE(catalog_->AddFiles(id, "core/profile", entries).ok());
  }

  // Which sets' index is in the store.
  std::map<std::string, bool> Moved(const std::vector<std::string>& ids) {
    std::map<std::string, bool> moved;
    for (const std::string& id : ids) {
      auto artifacts = catalog_->ListArtifacts(id);
      EXPECT_TRUE(artifacts.ok());
      moved[id] = artifacts.ok() && artifacts->at(0).has_file_list();
    }
    return moved;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteCatalog> catalog_;
  testing::MemoryStore store_;
  crypto::KeyRing keys_;
  v1::SchedulerConfig config_;
  std::unique_ptr<FileLists> lists_;
  SetLeases leases_;
};

TEST_F(FileIndexRetentionTest, KeepsTheNewestSetsAndEachPolicysBases) {
  // Newest first.
  AddSet("running", 900, v1::SET_RUNNING, "daily", v1::INCREMENTAL);
  AddSet("incr5", 800, v1::SET_COMPLETE, "daily", v1::INCREMENTAL);
  AddSet("failed4", 700, v1::SET_FAILED, "daily", v1::INCREMENTAL);
  AddSet("incr3", 600, v1::SET_COMPLETE, "daily", v1::INCREMENTAL);
  AddSet("full2", 500, v1::SET_COMPLETE, "daily", v1::FULL);
  AddSet("weekly1", 400, v1::SET_COMPLETE, "weekly", v1::FULL);
  AddSet("full0", 300, v1::SET_COMPLETE, "daily", v1::FULL);
  AddSet("manual", 200, v1::SET_COMPLETE, "", v1::FULL);
  AddSet("manual-old", 100, v1::SET_COMPLETE, "", v1::FULL);
  AddSet("other", 50, v1::SET_COMPLETE, "daily", v1::FULL, "dx2");

  v1::Policy* daily = config_.add_policies();
  daily->set_name("daily");
  daily->mutable_capture()->set_level(v1::DIFFERENTIAL);
  config_.add_policies()->set_name("weekly");  // fulls only
  config_.mutable_catalog()->set_file_index_sets(1);
  FileIndexRetention retention(config_, catalog_.get(), lists_.get(), &leases_);
  ASSERT_TRUE(retention.Apply("ns", "dx").ok());

  EXPECT_EQ(Moved({"running", "incr5", "failed4", "incr3", "full2", "weekly1",
                   "full0", "manual", "manual-old", "other"}),
            (std::map<std::string, bool>{
                {"running", false},  // never while it runs
                {"incr5", false},    // the newest; daily's incremental base
                {"failed4", true},
                {"incr3", true},
                {"full2", false},    // daily's differential base
                {"weekly1", false},  // weekly's incremental base
                {"full0", true},
                {"manual", false},  // the manual sets' base
                {"manual-old", true},
                {"other", false}}));  // another deployment
  v1::ListFilesRequest request;
  request.set_set_id("incr3");
  int rows = 0;
  ASSERT_TRUE(catalog_
                  ->ForEachFile(request,
                                [&](const v1::IndexedFile&) {
                                  ++rows;
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(rows, 0) << "a moved set's rows left the catalog";

  // Again: nothing more to do, nothing fails.
  ASSERT_TRUE(retention.Apply("ns", "dx").ok());
  // Every deployment: dx2's only set is its base and stays.
  ASSERT_TRUE(retention.ApplyAll().ok());
  EXPECT_FALSE(Moved({"other"})["other"]);
}

// A policy of fulls and incrementals only needs its newest sound set's
// rows: its newest full (not the newest set) moves.
TEST_F(FileIndexRetentionTest, OnlyADifferentialPolicyKeepsItsNewestFull) {
  AddSet("incr2", 300, v1::SET_COMPLETE, "daily", v1::INCREMENTAL);
  AddSet("incr1", 200, v1::SET_COMPLETE, "daily", v1::INCREMENTAL);
  AddSet("full0", 100, v1::SET_COMPLETE, "daily", v1::FULL);
  v1::Policy* daily = config_.add_policies();
  daily->set_name("daily");
  daily->mutable_capture()->set_level(v1::INCREMENTAL);
  config_.mutable_catalog()->set_file_index_sets(1);
  FileIndexRetention retention(config_, catalog_.get(), lists_.get(), &leases_);
  ASSERT_TRUE(retention.Apply("ns", "dx").ok());
  EXPECT_EQ(Moved({"incr2", "incr1", "full0"}),
            (std::map<std::string, bool>{
                {"incr2", false}, {"incr1", true}, {"full0", true}}));
}

TEST_F(FileIndexRetentionTest, ZeroKeepsEveryRowAndALeasedRemovalIsLeft) {
  AddSet("new", 300, v1::SET_COMPLETE, "daily", v1::FULL);
  AddSet("old", 200, v1::SET_COMPLETE, "daily", v1::FULL);
  AddSet("oldest", 100, v1::SET_COMPLETE, "daily", v1::FULL);
  FileIndexRetention none(config_, catalog_.get(), lists_.get(), &leases_);
  ASSERT_TRUE(none.ApplyAll().ok());
  EXPECT_FALSE(Moved({"old"})["old"]);

  std::string reader;
  ASSERT_TRUE(leases_.BeginRemoval("oldest", &reader));  // retention's
  config_.mutable_catalog()->set_file_index_sets(1);
  FileIndexRetention one(config_, catalog_.get(), lists_.get(), &leases_);
  ASSERT_TRUE(one.Apply("ns", "dx").ok());
  EXPECT_EQ(Moved({"new", "old", "oldest"}),
            (std::map<std::string, bool>{
                {"new", false}, {"old", true}, {"oldest", false}}));
  leases_.FinishRemoval("oldest");
}

}  // namespace
}  // namespace dxbackup::scheduler
