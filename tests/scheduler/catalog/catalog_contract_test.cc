// The catalog's contract, checked against every implementation: SQLite
// (what one scheduler runs on), PostgreSQL (what several share; a server
// of the test's own) and the in-memory catalog unit tests use. A fake that
// drifted from the real thing would make those tests lie.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "scheduler/catalog/postgres_catalog.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/shared_pg.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

struct Engine {
  std::string name;
  std::function<std::unique_ptr<Catalog>(const std::string& dir)> open;
};

void PrintTo(const Engine& engine, std::ostream* os) { *os << engine.name; }

class CatalogContractTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    catalog_ = GetParam().open(dir_.path());
    ASSERT_NE(catalog_, nullptr);
  }

  v1::BackupSet Set(const std::string& id, int64_t started,
                    const std::string& ns = "ns", const std::string& rel = "dx",
                    v1::SetStatus status = v1::SET_COMPLETE,
                    const std::string& policy = "") {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_(ns);
    set.set_release(rel);
    set.set_started_unix(started);
    set.set_status(status);
    set.set_policy(policy);
    return set;
  }
  void AddSet(const v1::BackupSet& set) {
    ASSERT_TRUE(catalog_->CreateSet(set).ok());
  }
  v1::Artifact Artifact(const std::string& set, const std::string& target) {
    v1::Artifact a;
    a.set_set_id(set);
    a.set_target(target);
    a.set_path("ns/dx/" + set + "/" + target + ".tar.zst");
    a.set_kind(v1::ARTIFACT_VOLUME_TAR);
    a.set_bytes(42);
    return a;
  }
  std::vector<std::string> Ids(const v1::ListSetsRequest& filter) {
    auto sets = catalog_->ListSets(filter);
    EXPECT_TRUE(sets.ok()) << sets.status();
    std::vector<std::string> ids;
    if (sets.ok()) {
      for (const auto& s : *sets) ids.push_back(s.id());
    }
    return ids;
  }
  void Index(const std::string& set, const std::string& target,
             const std::vector<std::pair<std::string, bool>>& paths) {
    google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
    for (const auto& [path, unchanged] : paths) {
      v1::FileEntry* e = entries.Add();
      e->set_path(path);
      e->set_type("file");
      e->set_unchanged(unchanged);
    }
    ASSERT_TRUE(catalog_->AddFiles(set, target, entries).ok());
  }
  std::vector<std::string> Listed(const std::string& set,
                                  const std::string& target,
                                  const std::string& prefix, int stop_after) {
    v1::ListFilesRequest request;
    request.set_set_id(set);
    request.set_target(target);
    request.set_path_prefix(prefix);
    std::vector<std::string> seen;
    EXPECT_TRUE(
        catalog_
            ->ForEachFile(request,
                          [&](const v1::IndexedFile& f) {
                            seen.push_back(f.target() + ":" + f.entry().path());
                            return static_cast<int>(seen.size()) < stop_after;
                          })
            .ok());
    return seen;
  }
  std::vector<std::string> Found(const std::string& pattern, int limit = 0,
                                 const std::string& ns = "",
                                 bool* truncated = nullptr) {
    v1::FindFilesRequest request;
    request.set_pattern(pattern);
    request.set_limit(limit);
    request.set_namespace_(ns);
    auto found = catalog_->FindFiles(request);
    EXPECT_TRUE(found.ok()) << found.status();
    std::vector<std::string> out;
    if (!found.ok()) return out;
    for (const auto& f : found->files()) {
      out.push_back(f.set_id() + ":" + f.entry().path());
    }
    if (truncated != nullptr) *truncated = found->truncated();
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
};

using Strings = std::vector<std::string>;

TEST_P(CatalogContractTest, AgentsAreReplacedListedInOrderAndForgotten) {
  v1::AgentInfo a;
  a.set_id("ns/dx/core-0");
  a.set_namespace_("ns");
  a.set_release("dx");
  a.set_pod("core-0");
  a.set_component("core");
  a.set_connected(true);
  a.set_last_seen_unix(10);
  v1::AgentInfo b = a;
  b.set_id("ns/dx/dam-0");
  b.set_pod("dam-0");
  b.set_component("dam");
  v1::AgentInfo c = a;
  c.set_id("ab/dx/core-0");
  c.set_namespace_("ab");
  for (const auto* agent : {&b, &a, &c}) {
    ASSERT_TRUE(catalog_->UpsertAgent(*agent).ok());
  }
  a.set_last_seen_unix(20);
  ASSERT_TRUE(catalog_->UpsertAgent(a).ok());
  auto agents = catalog_->ListAgents();
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(agents->size(), 3u);
  EXPECT_EQ((*agents)[0].id(), "ab/dx/core-0");
  EXPECT_EQ((*agents)[1].id(), "ns/dx/core-0");
  EXPECT_EQ((*agents)[1].last_seen_unix(), 20);
  EXPECT_FALSE((*agents)[1].connected()) << "connected is not stored";
  EXPECT_EQ((*agents)[2].id(), "ns/dx/dam-0");
  // One deployment's, in the same order.
  auto of = catalog_->ListAgentsOf("ns", "dx");
  ASSERT_TRUE(of.ok());
  ASSERT_EQ(of->size(), 2u);
  EXPECT_EQ((*of)[0].id(), "ns/dx/core-0");
  EXPECT_EQ((*of)[0].last_seen_unix(), 20);
  EXPECT_EQ((*of)[1].id(), "ns/dx/dam-0");
  EXPECT_EQ(catalog_->ListAgentsOf("ns", "other")->size(), 0u);
  EXPECT_EQ(catalog_->ListAgentsOf("ab", "dx")->size(), 1u);
  EXPECT_TRUE(catalog_->DeleteAgent("ns/dx/core-0").ok());
  EXPECT_TRUE(catalog_->DeleteAgent("never/was/here").ok());
  EXPECT_EQ(catalog_->ListAgents()->size(), 2u);
}

TEST_P(CatalogContractTest, SetsAreUniqueNewestFirstAndFiltered) {
  AddSet(Set("a", 100));
  AddSet(Set("b", 200, "ns", "dx", v1::SET_FAILED, "nightly"));
  AddSet(Set("c", 200, "ns", "other"));  // same second, created later
  AddSet(Set("d", 300, "other", "dx", v1::SET_COMPLETE, "nightly"));
  EXPECT_FALSE(catalog_->CreateSet(Set("a", 999)).ok());
  EXPECT_EQ(Ids({}), (Strings{"d", "c", "b", "a"}));
  v1::ListSetsRequest f;
  f.set_namespace_("ns");
  EXPECT_EQ(Ids(f), (Strings{"c", "b", "a"}));
  f.set_release("dx");
  EXPECT_EQ(Ids(f), (Strings{"b", "a"}));
  f.Clear();
  f.set_status(v1::SET_COMPLETE);
  EXPECT_EQ(Ids(f), (Strings{"d", "c", "a"}));
  f.Clear();
  f.set_policy("nightly");
  EXPECT_EQ(Ids(f), (Strings{"d", "b"}));
  f.Clear();
  f.set_since_unix(200);  // from, inclusive
  f.set_until_unix(300);  // to, exclusive
  EXPECT_EQ(Ids(f), (Strings{"c", "b"}));

  auto missing = catalog_->GetSet("zzz");
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("zzz"), std::string::npos);
  v1::BackupSet a = *catalog_->GetSet("a");
  a.set_status(v1::SET_FAILED);
  a.set_reason("why");
  a.add_warnings("careful");
  a.set_quiesce_seconds(7);
  ASSERT_TRUE(catalog_->UpdateSet(a).ok());
  v1::BackupSet back = *catalog_->GetSet("a");
  EXPECT_EQ(back.status(), v1::SET_FAILED);
  EXPECT_EQ(back.reason(), "why");
  EXPECT_EQ(back.quiesce_seconds(), 7);
  ASSERT_EQ(back.warnings_size(), 1);
  EXPECT_EQ(back.warnings(0), "careful");
}

TEST_P(CatalogContractTest, SetsArePagedAndCounted) {
  for (int i = 1; i <= 5; ++i) AddSet(Set("s" + std::to_string(i), 100 * i));
  AddSet(Set("other", 50, "ns2"));
  v1::ListSetsRequest page;
  page.set_namespace_("ns");
  page.set_limit(2);
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"s5", "s4"}));
  page.set_offset(2);
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"s3", "s2"}));
  page.set_offset(4);
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"s1"}));
  page.set_offset(9);
  EXPECT_TRUE(Ids(page).empty());
  EXPECT_EQ(*catalog_->CountSets(page), 5) << "ignores limit and offset";
  EXPECT_EQ(*catalog_->CountSets({}), 6);
}

TEST_P(CatalogContractTest, DeploymentSummariesNameEachOnesNewestSets) {
  v1::BackupSet old_complete = Set("c1", 100);
  old_complete.set_finished_unix(150);
  old_complete.set_bytes(10);
  AddSet(old_complete);
  v1::BackupSet complete = Set("c2", 200);
  complete.set_finished_unix(250);
  complete.set_bytes(20);
  v1::Drill drill;
  drill.set_result(v1::Drill::PASSED);
  drill.set_drilled_unix(900);
  drill.set_rto_seconds(42);
  AddSet(complete);
  ASSERT_TRUE(catalog_->RecordDrill("c2", drill).ok());
  v1::BackupSet corrupt = Set("c3", 300);
  corrupt.set_finished_unix(350);
  corrupt.mutable_verification()->set_result(v1::Verification::CORRUPT);
  AddSet(corrupt);
  v1::BackupSet failed = Set("f1", 400, "ns", "dx", v1::SET_FAILED);
  failed.set_reason("agent gone");
  AddSet(failed);
  AddSet(Set("f0", 120, "ns", "dx", v1::SET_FAILED));
  AddSet(Set("r1", 500, "ns", "dx", v1::SET_RUNNING));
  AddSet(Set("only-failed", 10, "ns2", "dx", v1::SET_FAILED));

  auto one = catalog_->DeploymentSummaries("ns2", "dx");
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].failed_id, "only-failed");
  EXPECT_TRUE(catalog_->DeploymentSummaries("ns3", "dx")->empty());

  auto summaries = catalog_->DeploymentSummaries("", "");
  ASSERT_TRUE(summaries.ok()) << summaries.status();
  ASSERT_EQ(summaries->size(), 2u);
  std::sort(
      summaries->begin(), summaries->end(),
      [](const auto& a, const auto& b) { return a.namespace_ < b.namespace_; });
  const SetCatalog::DeploymentSummary& d = (*summaries)[0];
  EXPECT_EQ(d.namespace_, "ns");
  EXPECT_EQ(d.sets, 6);
  EXPECT_EQ(d.newest_started_unix, 500);
  EXPECT_EQ(d.complete_id, "c2") << "the corrupt one does not count";
  EXPECT_EQ(d.complete_finished_unix, 250);
  EXPECT_EQ(d.complete_bytes, 20u);
  EXPECT_EQ(d.failed_id, "f1");
  EXPECT_EQ(d.failed_reason, "agent gone");
  EXPECT_EQ(d.drilled_id, "c2");
  EXPECT_EQ(d.drill.rto_seconds(), 42);
  EXPECT_EQ(d.drill.result(), v1::Drill::PASSED);
  const SetCatalog::DeploymentSummary& other = (*summaries)[1];
  EXPECT_EQ(other.namespace_, "ns2");
  EXPECT_TRUE(other.complete_id.empty());
  EXPECT_EQ(other.failed_id, "only-failed");
  EXPECT_TRUE(other.drilled_id.empty());
}

TEST_P(CatalogContractTest, ArtifactsAreOnePerTargetAndPath) {
  AddSet(Set("s1", 100));
  AddSet(Set("s2", 200));
  ASSERT_TRUE(catalog_->AddArtifact(Artifact("s1", "dam-upload")).ok());
  ASSERT_TRUE(catalog_->AddArtifact(Artifact("s1", "core-profile")).ok());
  EXPECT_FALSE(catalog_->AddArtifact(Artifact("s1", "core-profile")).ok())
      << "a second artifact for one target";
  v1::Artifact same_path = Artifact("s2", "core-profile");
  same_path.set_path(Artifact("s1", "core-profile").path());
  EXPECT_FALSE(catalog_->AddArtifact(same_path).ok()) << "one object, two rows";
  auto listed = catalog_->ListArtifacts("s1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].target(), "core-profile");
  EXPECT_EQ((*listed)[1].target(), "dam-upload");
  EXPECT_EQ((*listed)[0].bytes(), 42u);
  EXPECT_EQ(catalog_->AllArtifactPaths()->size(), 2u);
}

TEST_P(CatalogContractTest,
       LockedSetsAreThoseLockedPastNowWithTheirLatestLock) {
  AddSet(Set("s1", 100));
  AddSet(Set("s2", 200));
  AddSet(Set("s3", 300));
  v1::Artifact a = Artifact("s1", "core-profile");
  a.set_locked_until_unix(5000);
  ASSERT_TRUE(catalog_->AddArtifact(a).ok());
  a = Artifact("s1", "dam-upload");
  a.set_locked_until_unix(7000);
  ASSERT_TRUE(catalog_->AddArtifact(a).ok());
  a = Artifact("s2", "core-profile");
  a.set_locked_until_unix(1000);  // over by now
  ASSERT_TRUE(catalog_->AddArtifact(a).ok());
  ASSERT_TRUE(catalog_->AddArtifact(Artifact("s3", "core-profile")).ok());
  auto locked = catalog_->LockedSets(2000);
  ASSERT_TRUE(locked.ok()) << locked.status();
  EXPECT_EQ(*locked, (std::map<std::string, int64_t>{{"s1", 7000}}));
  EXPECT_TRUE(catalog_->LockedSets(7000)->empty());
}

TEST_P(CatalogContractTest, AnArtifactKeepsEveryField) {
  AddSet(Set("s1", 100));
  v1::Artifact a = Artifact("s1", "core-profile");
  a.set_path(a.path() + ".age");
  a.set_sha256(std::string(64, 'a'));
  a.set_compression(v1::COMPRESSION_ZSTD);
  a.set_file_count(7);
  a.set_fix_level("CF225");
  a.set_created_unix(123);
  a.set_source("pod/opt/profile");
  a.set_base_set_id("s0");
  a.set_locked_until_unix(456);
  a.set_encrypted_for("age1one,age1two");
  a.set_plain_bytes(40);
  a.set_plain_sha256(std::string(64, 'b'));
  ASSERT_TRUE(catalog_->AddArtifact(a).ok());
  auto listed = catalog_->ListArtifacts("s1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].DebugString(), a.DebugString());
}

TEST_P(CatalogContractTest, JobsKeepTheirSetKindAndTargetAndTheirOrder) {
  AddSet(Set("s1", 100));
  v1::Job job;
  job.set_id("s1.2");
  job.set_set_id("s1");
  job.set_kind(v1::JOB_VOLUME_BACKUP);
  job.set_target("core-profile");
  job.set_status(v1::JOB_RUNNING);
  ASSERT_TRUE(catalog_->UpsertJob(job).ok());
  v1::Job first = job;
  first.set_id("s1.1");
  ASSERT_TRUE(catalog_->UpsertJob(first).ok());
  job.set_status(v1::JOB_FAILED);
  job.set_error("agent gone");
  job.set_error_code("UNAVAILABLE");
  job.set_bytes(9);
  job.set_log("done");
  job.set_target("changed?");
  ASSERT_TRUE(catalog_->UpsertJob(job).ok());
  auto jobs = catalog_->ListJobs("s1");
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].id(), "s1.2") << "in the order first recorded";
  EXPECT_EQ((*jobs)[0].status(), v1::JOB_FAILED);
  EXPECT_EQ((*jobs)[0].error(), "agent gone");
  EXPECT_EQ((*jobs)[0].error_code(), "UNAVAILABLE");
  EXPECT_EQ((*jobs)[0].bytes(), 9u);
  EXPECT_EQ((*jobs)[0].log(), "done");
  EXPECT_EQ((*jobs)[0].target(), "core-profile");
  EXPECT_TRUE(catalog_->ListJobs("other")->empty());
}

TEST_P(CatalogContractTest, DeletingASetRemovesItsRowsOnly) {
  AddSet(Set("s1", 100));
  AddSet(Set("s2", 200));
  for (const char* set : {"s1", "s2"}) {
    ASSERT_TRUE(catalog_->AddArtifact(Artifact(set, "core")).ok());
    v1::Job job;
    job.set_id(std::string(set) + ".1");
    job.set_set_id(set);
    ASSERT_TRUE(catalog_->UpsertJob(job).ok());
    Index(set, "core", {{"a", false}});
  }
  ASSERT_TRUE(catalog_->DeleteSet("s1").ok());
  EXPECT_EQ(catalog_->GetSet("s1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(catalog_->ListArtifacts("s1")->empty());
  EXPECT_TRUE(catalog_->ListJobs("s1")->empty());
  EXPECT_TRUE(Listed("s1", "", "", 100).empty());
  EXPECT_EQ(catalog_->ListArtifacts("s2")->size(), 1u);
  EXPECT_EQ(catalog_->ListJobs("s2")->size(), 1u);
  EXPECT_EQ(Listed("s2", "", "", 100), Strings{"core:a"});
}

TEST_P(CatalogContractTest, FailUnfinishedEndsRunningSetsAndJobsOnly) {
  AddSet(Set("done", 100));
  AddSet(Set("running", 200, "ns", "dx", v1::SET_RUNNING));
  v1::Job pending, ok;
  pending.set_id("running.1");
  pending.set_set_id("running");
  pending.set_status(v1::JOB_PENDING);
  ok.set_id("done.1");
  ok.set_set_id("done");
  ok.set_status(v1::JOB_SUCCEEDED);
  ASSERT_TRUE(catalog_->UpsertJob(pending).ok());
  ASSERT_TRUE(catalog_->UpsertJob(ok).ok());
  auto failed = catalog_->FailUnfinished("the scheduler stopped", 500);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(*failed, 1);
  v1::BackupSet running = *catalog_->GetSet("running");
  EXPECT_EQ(running.status(), v1::SET_FAILED);
  EXPECT_EQ(running.reason(), "the scheduler stopped");
  EXPECT_EQ(running.finished_unix(), 500);
  EXPECT_EQ(catalog_->GetSet("done")->status(), v1::SET_COMPLETE);
  EXPECT_EQ((*catalog_->ListJobs("running"))[0].status(), v1::JOB_FAILED);
  EXPECT_EQ((*catalog_->ListJobs("running"))[0].error(),
            "the scheduler stopped");
  EXPECT_EQ((*catalog_->ListJobs("running"))[0].error_code(), "ABORTED");
  EXPECT_EQ((*catalog_->ListJobs("done"))[0].status(), v1::JOB_SUCCEEDED);
}

TEST_P(CatalogContractTest, TheFileIndexListsByTargetPathAndPrefix) {
  AddSet(Set("s1", 100));
  Index("s1", "profile", {{"a/b", false}, {"a/bc", false}, {"a/b/x", false}});
  Index("s1", "config", {{"z", false}, {"a/b/y", false}});
  EXPECT_EQ(Listed("s1", "", "", 100),
            (Strings{"config:a/b/y", "config:z", "profile:a/b", "profile:a/b/x",
                     "profile:a/bc"}));
  EXPECT_EQ(Listed("s1", "profile", "a/b/", 100),
            (Strings{"profile:a/b", "profile:a/b/x"}))
      << "a/b and below it, not a/bc";
  EXPECT_EQ(Listed("s1", "", "", 2).size(), 2u) << "visit stops the walk";

  auto first = catalog_->FilesAfter("s1", "profile", "", 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[1].path(), "a/b/x");
  auto next = catalog_->FilesAfter("s1", "profile", (*first)[1].path(), 2);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].path(), "a/bc");

  ASSERT_TRUE(catalog_->DeleteFiles("s1", "config").ok());
  EXPECT_EQ(Listed("s1", "config", "", 100), Strings{});
}

// A listing longer than one fetch of PostgreSQL's cursor (2,000 rows)
// comes whole and in order, and stops where the visitor says.
TEST_P(CatalogContractTest, ALongListingComesWholeAndInOrder) {
  AddSet(Set("s1", 100));
  std::vector<std::pair<std::string, bool>> paths;
  Strings want;
  for (int i = 0; i < 4500; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "f%05d", i);
    paths.push_back({name, false});
    want.push_back(std::string("profile:") + name);
  }
  Index("s1", "profile", paths);
  EXPECT_EQ(Listed("s1", "", "", 1 << 30), want);
  EXPECT_EQ(Listed("s1", "", "", 2001).size(), 2001u) << "visit stops the walk";
}

TEST_P(CatalogContractTest, FindReturnsStoredVersionsNewestSetFirst) {
  AddSet(Set("old", 100));
  AddSet(Set("new", 200));
  AddSet(Set("elsewhere", 300, "other"));
  Index("old", "profile", {{"cfg/wps.properties", false}, {"x/y.xml", false}});
  Index("new", "profile",
        {{"cfg/wps.properties", false}, {"x/y.xml", true /* unchanged */}});
  Index("elsewhere", "profile", {{"wps.properties", false}});
  EXPECT_EQ(Found("wps.*"),
            (Strings{"elsewhere:wps.properties", "new:cfg/wps.properties",
                     "old:cfg/wps.properties"}))
      << "a name at any depth, newest set first";
  EXPECT_EQ(Found("x/*.xml"), Strings{"old:x/y.xml"})
      << "a path glob; an unchanged entry is not a version";
  EXPECT_EQ(Found("WPS.*"), Strings{}) << "case-sensitive";
  EXPECT_EQ(Found("wps.*", 0, "other"), Strings{"elsewhere:wps.properties"});
  bool truncated = false;
  EXPECT_EQ(Found("wps.*", 2, "", &truncated).size(), 2u);
  EXPECT_TRUE(truncated);
  Found("wps.*", 3, "", &truncated);
  EXPECT_FALSE(truncated);
}

TEST_P(CatalogContractTest, OrphanedIndexRowsGoArtifactsKeepTheirs) {
  AddSet(Set("s1", 100));
  Index("s1", "kept", {{"a", false}});
  Index("s1", "crashed", {{"b", false}});
  ASSERT_TRUE(catalog_->AddArtifact(Artifact("s1", "kept")).ok());
  ASSERT_TRUE(catalog_->DeleteOrphanFiles().ok());
  EXPECT_EQ(Listed("s1", "", "", 100), Strings{"kept:a"});
}

// An artifact's file index moved to the store: the rows go, the artifact
// names the object (and is locked as long as it is), and the lists are
// found by deployment, newest set first, for `find --older`.
TEST_P(CatalogContractTest, AFileIndexMovedToTheStoreLeavesItsRowsBehind) {
  AddSet(Set("s1", 100));
  AddSet(Set("s2", 200));
  AddSet(Set("s3", 300, "other"));
  v1::Artifact locked = Artifact("s1", "profile");
  locked.set_locked_until_unix(400);
  ASSERT_TRUE(catalog_->AddArtifact(locked).ok());
  for (const auto& [set, target] :
       std::vector<std::pair<std::string, std::string>>{
           {"s1", "upload"}, {"s2", "profile"}, {"s3", "profile"}}) {
    ASSERT_TRUE(catalog_->AddArtifact(Artifact(set, target)).ok());
  }
  Index("s1", "profile", {{"a", false}, {"b", false}});
  Index("s1", "upload", {{"u", false}});
  auto list = [](const std::string& set, const std::string& target) {
    v1::StoredFileList l;
    l.set_path("ns/dx/" + set + "/" + target + ".files.zst");
    l.set_entries(2);
    l.set_bytes(77);
    l.set_sha256(std::string(64, 'a'));
    l.set_encrypted_for("age1x");
    return l;
  };

  ASSERT_TRUE(
      catalog_->MoveFilesToStore("s1", "profile", list("s1", "profile"), 500)
          .ok());
  EXPECT_EQ(Listed("s1", "", "", 100), Strings{"upload:u"});
  auto artifacts = catalog_->ListArtifacts("s1");
  ASSERT_TRUE(artifacts.ok());
  ASSERT_EQ(artifacts->size(), 2u);
  EXPECT_EQ((*artifacts)[0].file_list().ShortDebugString(),
            list("s1", "profile").ShortDebugString());
  EXPECT_EQ((*artifacts)[0].locked_until_unix(), 500) << "raised to the list's";
  EXPECT_FALSE((*artifacts)[1].has_file_list());

  ASSERT_TRUE(
      catalog_->MoveFilesToStore("s1", "upload", list("s1", "upload"), 0).ok());
  EXPECT_EQ(catalog_->ListArtifacts("s1")->at(1).locked_until_unix(), 0)
      << "never lowered, never raised by 0";
  auto missing = catalog_->MoveFilesToStore("s1", "dam", list("s1", "dam"), 0);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  ASSERT_TRUE(
      catalog_->MoveFilesToStore("s2", "profile", list("s2", "profile"), 0)
          .ok());
  ASSERT_TRUE(
      catalog_->MoveFilesToStore("s3", "profile", list("s3", "profile"), 0)
          .ok());

  auto names = [&](const std::string& ns, const std::string& release) {
    Strings out;
    auto lists = catalog_->StoredFileLists(ns, release);
    EXPECT_TRUE(lists.ok()) << lists.status();
    if (!lists.ok()) return out;
    for (const auto& l : *lists) {
      out.push_back(absl::StrCat(l.namespace_, "/", l.release, "/",
                                 l.artifact.set_id(), "@", l.set_started_unix,
                                 ":", l.artifact.target(), "=",
                                 l.artifact.file_list().path()));
    }
    return out;
  };
  EXPECT_EQ(names("ns", ""),
            (Strings{"ns/dx/s2@200:profile=ns/dx/s2/profile.files.zst",
                     "ns/dx/s1@100:profile=ns/dx/s1/profile.files.zst",
                     "ns/dx/s1@100:upload=ns/dx/s1/upload.files.zst"}));
  EXPECT_EQ(names("ns", "dx").size(), 3u);
  EXPECT_EQ(names("ns", "other-release"), Strings{});
  EXPECT_EQ(names("other", ""),
            Strings{"other/dx/s3@300:profile=ns/dx/s3/profile.files.zst"});

  auto paths = catalog_->AllArtifactPaths();
  ASSERT_TRUE(paths.ok());
  EXPECT_NE(
      std::find(paths->begin(), paths->end(), "ns/dx/s1/upload.files.zst"),
      paths->end())
      << "the store's reconciliation keeps the lists";
  ASSERT_TRUE(catalog_->DeleteSet("s1").ok());
  EXPECT_EQ(names("ns", "").size(), 1u);
}

TEST_P(CatalogContractTest, ScheduleSlotsAreOnePerPolicyAndDeployment) {
  ASSERT_TRUE(catalog_->SaveScheduleSlot({"nightly", "ns", "dx", 100}).ok());
  ASSERT_TRUE(catalog_->SaveScheduleSlot({"nightly", "ns", "other", 50}).ok());
  ASSERT_TRUE(catalog_->SaveScheduleSlot({"nightly", "ns", "dx", 200}).ok());
  auto slots = catalog_->ScheduleSlots();
  ASSERT_TRUE(slots.ok());
  ASSERT_EQ(slots->size(), 2u);
  for (const auto& slot : *slots) {
    EXPECT_EQ(slot.last_slot_unix, slot.release == "dx" ? 200 : 50);
  }
}

// Schedulers sharing a catalog each claim the slots they see come: one
// gets each slot, an earlier slot is never taken back.
TEST_P(CatalogContractTest, EachScheduleSlotIsClaimedOnce) {
  auto claim = [&](const std::string& release, int64_t slot) {
    auto claimed =
        catalog_->ClaimScheduleSlot({"nightly", "ns", release, slot});
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    return claimed.ok() && *claimed;
  };
  EXPECT_TRUE(claim("dx", 100));
  EXPECT_FALSE(claim("dx", 100)) << "the same slot, claimed again";
  EXPECT_FALSE(claim("dx", 50)) << "an earlier slot";
  EXPECT_TRUE(claim("other", 100)) << "another deployment's";
  EXPECT_TRUE(claim("dx", 200));
  auto slots = catalog_->ScheduleSlots();
  ASSERT_TRUE(slots.ok());
  for (const auto& slot : *slots) {
    EXPECT_EQ(slot.last_slot_unix, slot.release == "dx" ? 200 : 100);
  }
}

TEST_P(CatalogContractTest, PendingNoticesAreKeptInOrderUntilRemoved) {
  v1::Notice failed;
  failed.set_event("set_failed");
  failed.set_namespace_("ns");
  failed.set_set_id("s1");
  failed.set_at_unix(1700000000);
  v1::Notice stale = failed;
  stale.set_event("deployment_stale");
  auto first = catalog_->AddPendingNotice("ops", failed);
  auto second = catalog_->AddPendingNotice("chat", stale);
  auto third = catalog_->AddPendingNotice("ops", stale);
  ASSERT_TRUE(first.ok() && second.ok() && third.ok()) << first.status();
  EXPECT_LT(*first, *second);
  EXPECT_LT(*second, *third);
  ASSERT_TRUE(catalog_->RemovePendingNotice(*second).ok());
  ASSERT_TRUE(catalog_->RemovePendingNotice(*second).ok())
      << "removed twice: no error";
  auto pending = catalog_->PendingNotices();
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].id, *first);
  EXPECT_EQ((*pending)[0].webhook, "ops");
  EXPECT_EQ((*pending)[0].notice.SerializeAsString(),
            failed.SerializeAsString())
      << "every field kept";
  EXPECT_EQ((*pending)[1].id, *third);
  EXPECT_EQ((*pending)[1].notice.event(), "deployment_stale");
}

TEST_P(CatalogContractTest, RunningSetsStartOnlyWithinTheLimits) {
  const SetLimits limits{2, 1};
  auto start = [&](const std::string& id, const std::string& ns) {
    return catalog_->CreateSetWithin(Set(id, 100, ns, "dx", v1::SET_RUNNING),
                                     limits);
  };
  ASSERT_TRUE(start("a1", "a").ok());
  // A complete set, and one failed, count for nothing.
  AddSet(Set("a0", 50, "a", "dx", v1::SET_COMPLETE));
  AddSet(Set("c0", 50, "c", "dx", v1::SET_FAILED));
  const absl::Status same_namespace = start("a2", "a");
  EXPECT_EQ(same_namespace.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(same_namespace.message().find("namespace a"), std::string::npos)
      << same_namespace;
  ASSERT_TRUE(start("b1", "b").ok());
  const absl::Status fleet = start("c1", "c");
  EXPECT_EQ(fleet.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(fleet.message().find("limits.max_sets 2"), std::string::npos)
      << fleet;
  EXPECT_EQ(catalog_->GetSet("c1").status().code(),
            absl::StatusCode::kNotFound);
  // One ends: the next starts.
  v1::BackupSet ended = Set("a1", 100, "a", "dx", v1::SET_COMPLETE);
  ASSERT_TRUE(catalog_->UpdateSet(ended).ok());
  EXPECT_TRUE(start("c1", "c").ok());
  // No limits: no refusal; an id taken is still refused.
  EXPECT_TRUE(
      catalog_->CreateSetWithin(Set("d1", 100, "d", "dx", v1::SET_RUNNING), {})
          .ok());
  EXPECT_FALSE(
      catalog_->CreateSetWithin(Set("d1", 100, "d", "dx", v1::SET_RUNNING), {})
          .ok());
}

// A lease of a minute is live throughout a test; a negative one has
// lapsed (RenewReplica with it ends a live lease now).
constexpr int64_t kLive = 60'000;
constexpr int64_t kLapse = -1'000;

std::vector<std::string> ReplicaIds(ReplicaCatalog& replicas) {
  std::vector<std::string> ids;
  auto live = replicas.LiveReplicas();
  EXPECT_TRUE(live.ok()) << live.status();
  if (live.ok()) {
    for (const auto& r : *live) ids.push_back(r.id + "@" + r.address);
  }
  return ids;
}

std::vector<std::string> Owned(ReplicaCatalog& replicas,
                               const std::string& id) {
  std::vector<std::string> names;
  auto owned = replicas.OwnedDeployments(id);
  EXPECT_TRUE(owned.ok()) << owned.status();
  if (owned.ok()) {
    for (const auto& d : *owned)
      names.push_back(d.namespace_ + "/" + d.release);
  }
  return names;
}

TEST_P(CatalogContractTest, AReplicaIsLiveUntilItsLeaseLapsesAndStaysLapsed) {
  ReplicaCatalog& replicas = catalog_->replicas();
  ASSERT_TRUE(replicas.RegisterReplica({"a", "10.0.0.1:7443"}, kLive).ok());
  ASSERT_TRUE(replicas.RegisterReplica({"b", "10.0.0.2:7443"}, kLive).ok());
  EXPECT_EQ(replicas.RegisterReplica({"a", "10.0.0.9:7443"}, kLive).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReplicaIds(replicas),
            (Strings{"a@10.0.0.1:7443", "b@10.0.0.2:7443"}));

  EXPECT_TRUE(replicas.RenewReplica("a", kLive).ok());
  ASSERT_TRUE(replicas.RenewReplica("b", kLapse).ok());
  EXPECT_EQ(ReplicaIds(replicas), (Strings{"a@10.0.0.1:7443"}));
  // A lapsed lease is not renewed: another replica may own its
  // deployments by now.
  const absl::Status renewed = replicas.RenewReplica("b", kLive);
  EXPECT_EQ(renewed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(renewed.message().find("replica b"), std::string::npos) << renewed;
  EXPECT_EQ(ReplicaIds(replicas), (Strings{"a@10.0.0.1:7443"}));

  ASSERT_TRUE(replicas.RetireReplica("a").ok());
  EXPECT_TRUE(ReplicaIds(replicas).empty());
  EXPECT_EQ(replicas.RenewReplica("a", kLive).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(replicas.RenewReplica("never", kLive).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_P(CatalogContractTest, ADeploymentHasOneOwnerWhileItsLeaseLives) {
  ReplicaCatalog& replicas = catalog_->replicas();
  ASSERT_TRUE(replicas.RegisterReplica({"a", "10.0.0.1:7443"}, kLive).ok());
  ASSERT_TRUE(replicas.RegisterReplica({"b", "10.0.0.2:7443"}, kLive).ok());

  auto first = replicas.ClaimDeployment("ns", "dx", "a");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->replica_id, "a");
  EXPECT_EQ(first->address, "10.0.0.1:7443");
  EXPECT_TRUE(first->claimed);
  EXPECT_EQ(first->previous, "");

  // Until a says it has taken the deployment over, its claims say the
  // takeover is owed (a claim whose answer was lost owes it still);
  // another replica cannot complete it.
  auto again = replicas.ClaimDeployment("ns", "dx", "a");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->claimed);
  EXPECT_EQ(replicas.CompleteTakeover("ns", "dx", "b").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(replicas.ClaimDeployment("ns", "dx", "a")->claimed);
  ASSERT_TRUE(replicas.CompleteTakeover("ns", "dx", "a").ok());
  // Another replica is told who owns it; the owner claiming again takes
  // nothing new.
  for (const std::string id : {"b", "a"}) {
    auto again = replicas.ClaimDeployment("ns", "dx", id);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->replica_id, "a") << id;
    EXPECT_EQ(again->address, "10.0.0.1:7443") << id;
    EXPECT_FALSE(again->claimed) << id;
  }
  ASSERT_TRUE(replicas.ClaimDeployment("ns", "dam", "b").ok());
  ASSERT_TRUE(replicas.ClaimDeployment("other", "dx", "a").ok());
  EXPECT_EQ(Owned(replicas, "a"), (Strings{"ns/dx", "other/dx"}));
  EXPECT_EQ(Owned(replicas, "b"), (Strings{"ns/dam"}));

  // a's lease lapses: b takes its deployment over and learns from whom;
  // a owns nothing and can claim nothing.
  ASSERT_TRUE(replicas.RenewReplica("a", kLapse).ok());
  auto taken = replicas.ClaimDeployment("ns", "dx", "b");
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->replica_id, "b");
  EXPECT_EQ(taken->address, "10.0.0.2:7443");
  EXPECT_TRUE(taken->claimed);
  EXPECT_EQ(taken->previous, "a");
  auto still = replicas.ClaimDeployment("ns", "dx", "b");
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(still->claimed);
  EXPECT_EQ(still->previous, "a");
  EXPECT_TRUE(Owned(replicas, "a").empty());
  EXPECT_EQ(Owned(replicas, "b"), (Strings{"ns/dam", "ns/dx"}));
  EXPECT_EQ(replicas.ClaimDeployment("ns", "dam", "a").status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Released, it is free to the next claim; a release by another replica
  // changes nothing.
  ASSERT_TRUE(replicas.RegisterReplica({"c", "10.0.0.3:7443"}, kLive).ok());
  ASSERT_TRUE(replicas.ReleaseDeployment("ns", "dam", "c").ok());
  EXPECT_EQ(Owned(replicas, "b"), (Strings{"ns/dam", "ns/dx"}));
  ASSERT_TRUE(replicas.ReleaseDeployment("ns", "dam", "b").ok());
  auto freed = replicas.ClaimDeployment("ns", "dam", "c");
  ASSERT_TRUE(freed.ok()) << freed.status();
  EXPECT_TRUE(freed->claimed);
  EXPECT_EQ(freed->previous, "");

  // b lapses before completing its takeover of ns/dx: the next owner
  // still owes a's work, and is told of a, not of b (which never acted).
  ASSERT_TRUE(replicas.RenewReplica("b", kLapse).ok());
  auto next = replicas.ClaimDeployment("ns", "dx", "c");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(next->claimed);
  EXPECT_EQ(next->previous, "a");
  ASSERT_TRUE(replicas.CompleteTakeover("ns", "dx", "c").ok());
  EXPECT_FALSE(replicas.ClaimDeployment("ns", "dx", "c")->claimed);
}

TEST_P(CatalogContractTest, ARetiredReplicasDeploymentsAreFreeAtOnce) {
  ReplicaCatalog& replicas = catalog_->replicas();
  ASSERT_TRUE(replicas.RegisterReplica({"a", "10.0.0.1:7443"}, kLive).ok());
  ASSERT_TRUE(replicas.RegisterReplica({"b", "10.0.0.2:7443"}, kLive).ok());
  ASSERT_TRUE(replicas.ClaimDeployment("ns", "dx", "a").ok());
  ASSERT_TRUE(replicas.RetireReplica("a").ok());
  auto owner = replicas.ClaimDeployment("ns", "dx", "b");
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_EQ(owner->replica_id, "b");
  EXPECT_TRUE(owner->claimed);
  // A clean stop left nothing running to end.
  EXPECT_EQ(owner->previous, "");
}

INSTANTIATE_TEST_SUITE_P(
    Engines, CatalogContractTest,
    ::testing::Values(
        Engine{"sqlite",
               [](const std::string& dir) -> std::unique_ptr<Catalog> {
                 auto c = SqliteCatalog::Open(dir + "/catalog.db");
                 return c.ok() ? std::move(*c) : nullptr;
               }},
        Engine{"postgres",
               [](const std::string&) -> std::unique_ptr<Catalog> {
                 absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
                 if (!db.ok()) {
                   ADD_FAILURE() << db.status();
                   return nullptr;
                 }
                 auto c = PostgresCatalog::Open(*db);
                 if (!c.ok()) ADD_FAILURE() << c.status();
                 return c.ok() ? std::move(*c) : nullptr;
               }},
        Engine{"memory",
               [](const std::string&) -> std::unique_ptr<Catalog> {
                 return std::make_unique<testing::MemoryCatalog>();
               }}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace dxbackup::scheduler
