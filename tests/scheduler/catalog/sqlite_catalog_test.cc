#include "scheduler/catalog/sqlite_catalog.h"

#include <gtest/gtest.h>

#include "scheduler/catalog/catalog_schema.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

v1::BackupSet MakeSet(const std::string& id, int64_t started) {
  v1::BackupSet set;
  set.set_id(id);
  set.set_namespace_("dx-prod");
  set.set_release("dx");
  set.set_status(v1::SET_RUNNING);
  set.set_started_unix(started);
  return set;
}

TEST(SqliteCatalogTest, MigratesANewFileToTheLatestSchema) {
  testing::TempDir dir;
  auto catalog = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(*(*catalog)->SchemaVersion(), SqliteCatalog::LatestSchemaVersion());
}

TEST(SqliteCatalogTest, KeepsSetsJobsAndArtifactsAcrossReopen) {
  testing::TempDir dir;
  {
    auto catalog = SqliteCatalog::Open(dir / "catalog.db");
    ASSERT_TRUE(catalog.ok());
    ASSERT_TRUE((*catalog)->CreateSet(MakeSet("s1", 100)).ok());
    ASSERT_TRUE((*catalog)->CreateSet(MakeSet("s2", 200)).ok());
    v1::Job job;
    job.set_id("s1.1");
    job.set_set_id("s1");
    job.set_kind(v1::JOB_VOLUME_BACKUP);
    job.set_target("core/profile");
    job.set_status(v1::JOB_FAILED);
    job.set_error("agent gone");
    ASSERT_TRUE((*catalog)->UpsertJob(job).ok());
    v1::Artifact a;
    a.set_set_id("s2");
    a.set_target("db/dxmediadb");
    a.set_kind(v1::ARTIFACT_PG_DUMP);
    a.set_path("dx-prod/dx/s2/dxmediadb.pgdump");
    a.set_bytes(42);
    a.set_sha256("ab");
    ASSERT_TRUE((*catalog)->AddArtifact(a).ok());
    EXPECT_FALSE((*catalog)->AddArtifact(a).ok()) << "one row per path";
  }
  auto catalog = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_TRUE(catalog.ok());
  auto sets = (*catalog)->ListSets({});
  ASSERT_TRUE(sets.ok());
  ASSERT_EQ(sets->size(), 2u);
  EXPECT_EQ((*sets)[0].id(), "s2") << "newest first";
  v1::ListSetsRequest other;
  other.set_namespace_("other-ns");
  EXPECT_TRUE((*catalog)->ListSets(other)->empty());
  auto jobs = (*catalog)->ListJobs("s1");
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].error(), "agent gone");
  EXPECT_EQ((*jobs)[0].kind(), v1::JOB_VOLUME_BACKUP);
  auto artifacts = (*catalog)->ListArtifacts("s2");
  ASSERT_EQ(artifacts->size(), 1u);
  EXPECT_EQ((*artifacts)[0].bytes(), 42u);
  EXPECT_EQ((*artifacts)[0].kind(), v1::ARTIFACT_PG_DUMP);
  EXPECT_EQ((*catalog)->GetSet("nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SqliteCatalogTest, FiltersSetsAndDeletesThemWhole) {
  testing::TempDir dir;
  auto catalog = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_TRUE(catalog.ok());
  for (int i = 1; i <= 4; ++i) {
    v1::BackupSet set = MakeSet("s" + std::to_string(i), 100 * i);
    set.set_status(i % 2 ? v1::SET_COMPLETE : v1::SET_FAILED);
    set.set_policy(i <= 2 ? "nightly" : "");
    ASSERT_TRUE((*catalog)->CreateSet(set).ok());
  }
  v1::ListSetsRequest filter;
  filter.set_status(v1::SET_COMPLETE);
  filter.set_since_unix(200);
  ASSERT_EQ((*catalog)->ListSets(filter)->size(), 1u);
  EXPECT_EQ((*catalog)->ListSets(filter)->at(0).id(), "s3");
  filter.Clear();
  filter.set_policy("nightly");
  filter.set_until_unix(200);
  ASSERT_EQ((*catalog)->ListSets(filter)->size(), 1u);
  EXPECT_EQ((*catalog)->ListSets(filter)->at(0).policy(), "nightly");

  v1::Artifact a;
  a.set_set_id("s1");
  a.set_target("core/profile");
  a.set_path("ns/dx/s1/core-profile.tar.zst");
  ASSERT_TRUE((*catalog)->AddArtifact(a).ok());
  ASSERT_TRUE((*catalog)->DeleteSet("s1").ok());
  EXPECT_EQ((*catalog)->GetSet("s1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE((*catalog)->ListArtifacts("s1")->empty());
  EXPECT_TRUE((*catalog)->AllArtifactPaths()->empty());
}

TEST(SqliteCatalogTest, IndexesFilesListsByPrefixAndFindsVersions) {
  testing::TempDir dir;
  auto opened = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_TRUE(opened.ok());
  SqliteCatalog& catalog = **opened;
  google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
  for (const char* path : {".", "config", "config/cells", "config/cells/a.xml",
                           "config/cellsX", "PortalServer/wps.properties"}) {
    v1::FileEntry* e = entries.Add();
    e->set_path(path);
    e->set_type("file");
    e->set_size(7);
  }
  for (const char* id : {"s1", "s2"}) {
    v1::BackupSet set = MakeSet(id, id[1] == '1' ? 100 : 200);
    ASSERT_TRUE(catalog.CreateSet(set).ok());
    ASSERT_TRUE(catalog.AddFiles(id, "core/profile", entries).ok());
    v1::Artifact a;
    a.set_set_id(id);
    a.set_target("core/profile");
    a.set_path(std::string(id) + "/core-profile.tar.zst");
    ASSERT_TRUE(catalog.AddArtifact(a).ok());
  }
  std::vector<std::string> listed;
  v1::ListFilesRequest request;
  request.set_set_id("s1");
  request.set_path_prefix("config/cells/");
  ASSERT_TRUE(catalog
                  .ForEachFile(request,
                               [&](const v1::IndexedFile& f) {
                                 listed.push_back(f.entry().path());
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(listed,
            (std::vector<std::string>{"config/cells", "config/cells/a.xml"}));

  v1::FindFilesRequest find;
  find.set_pattern("wps.properties");
  auto found = catalog.FindFiles(find);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->files_size(), 2) << "one version per set";
  EXPECT_EQ(found->files(0).set_id(), "s2") << "newest first";
  find.set_pattern("config/*");
  find.set_limit(2);
  found = catalog.FindFiles(find);
  EXPECT_EQ(found->files_size(), 2);
  EXPECT_TRUE(found->truncated());

  // Rows of an upload that never became an artifact go at the next start.
  ASSERT_TRUE(catalog.CreateSet(MakeSet("s3", 300)).ok());
  ASSERT_TRUE(catalog.AddFiles("s3", "dam/upload", entries).ok());
  ASSERT_TRUE(catalog.DeleteOrphanFiles().ok());
  find.set_pattern("*");
  find.set_limit(100);
  auto everything = catalog.FindFiles(find);
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->files_size(), 12);
  for (const auto& f : everything->files()) EXPECT_NE(f.set_id(), "s3");
  ASSERT_TRUE(catalog.DeleteSet("s1").ok());
  request.set_path_prefix("");
  int left = 0;
  ASSERT_TRUE(catalog
                  .ForEachFile(request,
                               [&](const v1::IndexedFile&) {
                                 ++left;
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(left, 0) << "a deleted set takes its index along";
}

TEST(SqliteCatalogTest, RemembersScheduleSlots) {
  testing::TempDir dir;
  auto catalog = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_TRUE(catalog.ok());
  ASSERT_TRUE((*catalog)->SaveScheduleSlot({"nightly", "ns", "dx", 100}).ok());
  ASSERT_TRUE((*catalog)->SaveScheduleSlot({"nightly", "ns", "dx", 200}).ok());
  auto slots = (*catalog)->ScheduleSlots();
  ASSERT_EQ(slots->size(), 1u);
  EXPECT_EQ(slots->at(0).last_slot_unix, 200);
}

TEST(SqliteCatalogTest, KeepsOneHoldPerDeploymentAcrossReopen) {
  testing::TempDir dir;
  {
    auto catalog = SqliteCatalog::Open(dir / "catalog.db");
    ASSERT_TRUE(catalog.ok());
    v1::DeploymentHold hold;
    hold.set_namespace_("ns");
    hold.set_release("dx");
    hold.set_set_id("s1");
    hold.set_restore_id("restore-1");
    hold.set_reason("waits for db/wpsdb");
    hold.set_since_unix(100);
    hold.set_running(true);
    ASSERT_TRUE((*catalog)->PutHold(hold).ok());
    hold.set_running(false);
    hold.set_set_id("s2");  // a later restore's hold replaces it
    hold.set_restore_id("restore-2");
    ASSERT_TRUE((*catalog)->PutHold(hold).ok());
    hold.set_release("other");
    hold.set_running(true);
    ASSERT_TRUE((*catalog)->PutHold(hold).ok());
  }
  auto catalog = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_TRUE(catalog.ok());
  auto holds = (*catalog)->Holds();
  ASSERT_TRUE(holds.ok()) << holds.status();
  ASSERT_EQ(holds->size(), 2u);
  EXPECT_EQ(holds->at(0).release(), "dx");
  EXPECT_EQ(holds->at(0).set_id(), "s2");
  EXPECT_EQ(holds->at(0).restore_id(), "restore-2");
  EXPECT_EQ(holds->at(0).reason(), "waits for db/wpsdb");
  EXPECT_EQ(holds->at(0).since_unix(), 100);
  EXPECT_FALSE(holds->at(0).running());
  EXPECT_TRUE(holds->at(1).running());
  ASSERT_TRUE((*catalog)->ReleaseHold("ns", "dx", "restore-1").ok());
  EXPECT_EQ((*catalog)->Holds()->size(), 2u)
      << "restore-1's hold was replaced: restore-2's stays";
  ASSERT_TRUE((*catalog)->ReleaseHold("ns", "dx", "restore-2").ok());
  ASSERT_TRUE((*catalog)->ReleaseHold("ns", "dx", "restore-2").ok())
      << "none: still ok";
  holds = (*catalog)->Holds();
  ASSERT_EQ(holds->size(), 1u);
  EXPECT_EQ(holds->at(0).release(), "other");
}

TEST(SqliteCatalogTest, RemembersWhatASetScaledDownUntilForgotten) {
  testing::TempDir dir;
  {
    auto catalog = SqliteCatalog::Open(dir / "catalog.db");
    ASSERT_TRUE(catalog.ok());
    ASSERT_TRUE((*catalog)->RecordScaledDown({"ns", "dx", "s1", 3, 100}).ok());
    ASSERT_TRUE((*catalog)->RecordScaledDown({"ns", "dx", "s2", 4, 200}).ok());
    ASSERT_TRUE((*catalog)->RecordScaledDown({"ns", "b", "s3", 2, 300}).ok());
  }
  auto catalog = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_TRUE(catalog.ok());
  auto left = (*catalog)->ScaledDowns();
  ASSERT_TRUE(left.ok()) << left.status();
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ(left->at(1).release, "dx");
  EXPECT_EQ(left->at(1).set_id, "s2");
  EXPECT_EQ(left->at(1).replicas, 4);
  EXPECT_EQ(left->at(1).since_unix, 200);
  ASSERT_TRUE((*catalog)->ForgetScaledDown("ns", "dx", "s1").ok());
  EXPECT_EQ((*catalog)->ScaledDowns()->size(), 2u)
      << "s2's row is not s1's to forget";
  ASSERT_TRUE((*catalog)->ForgetScaledDown("ns", "dx", "s2").ok());
  ASSERT_TRUE((*catalog)->ForgetScaledDown("ns", "dx", "s2").ok());
  left = (*catalog)->ScaledDowns();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).release, "b");
}

TEST(SqliteCatalogTest, FailUnfinishedEndsRunningSetsWithAReason) {
  testing::TempDir dir;
  auto catalog = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_TRUE(catalog.ok());
  ASSERT_TRUE((*catalog)->CreateSet(MakeSet("s1", 100)).ok());
  v1::BackupSet done = MakeSet("s2", 100);
  done.set_status(v1::SET_COMPLETE);
  ASSERT_TRUE((*catalog)->CreateSet(done).ok());
  EXPECT_EQ(*(*catalog)->FailUnfinished("scheduler restarted", 300), 1);
  EXPECT_EQ((*catalog)->GetSet("s1")->status(), v1::SET_FAILED);
  EXPECT_EQ((*catalog)->GetSet("s1")->reason(), "scheduler restarted");
  EXPECT_EQ((*catalog)->GetSet("s2")->status(), v1::SET_COMPLETE);
}

std::string Sqlite3(const std::string& db, const std::string& sql) {
  std::string out;
  FILE* p = popen(("sqlite3 " + db + " \"" + sql + "\"").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// find's indexes leave out the rows of an incremental's unchanged files
// (half the index work of such a row), and find's query still uses them.
TEST(SqliteCatalogTest, FindStaysIndexedWithoutUnchangedFilesInItsIndexes) {
  testing::TempDir dir;
  {
    auto catalog = SqliteCatalog::Open(dir / "catalog.db");
    ASSERT_TRUE(catalog.ok());
  }
  const std::string db = dir / "catalog.db";
  for (const char* column : {"name", "path"}) {
    const std::string plan = Sqlite3(
        db, std::string("EXPLAIN QUERY PLAN SELECT * FROM files f WHERE f.") +
                column + " GLOB 'wps.prop*' AND f.unchanged = 0");
    EXPECT_NE(plan.find(std::string("files_by_") + column), std::string::npos)
        << plan;
    const std::string sql =
        Sqlite3(db, std::string("SELECT sql FROM sqlite_master WHERE name = "
                                "'files_by_") +
                        column + "'");
    EXPECT_NE(sql.find("WHERE unchanged = 0"), std::string::npos) << sql;
  }
}

// A catalog written before sets and jobs kept their order in a column
// (schema 19, where SQLite's rowid kept it) lists them as it did.
TEST(SqliteCatalogTest, AnOlderCatalogKeepsTheOrderItsRowsWereWrittenIn) {
  testing::TempDir dir;
  const std::string path = dir / "catalog.db";
  std::string script;
  for (int v = 0; v < 19; ++v) {
    script += RenderMigration(SqlEngine::kSqlite, v);
  }
  // Two sets started in the same second, "b" written last; jobs written
  // in an order their ids do not sort in.
  script +=
      "INSERT INTO sets (id, namespace, release, status, started_unix) "
      "VALUES ('s-b0', 'ns', 'dx', 'SET_COMPLETE', 100), "
      "('s-a1', 'ns', 'dx', 'SET_COMPLETE', 100);"
      "INSERT INTO jobs (id, set_id, kind, target, status) VALUES "
      "('j.10', 's-a1', 'JOB_HOOK', 'pre', 'JOB_SUCCEEDED'), "
      "('j.2', 's-a1', 'JOB_VOLUME_BACKUP', 'core/profile', "
      "'JOB_SUCCEEDED'), "
      "('j.1', 's-a1', 'JOB_HOOK', 'post', 'JOB_SUCCEEDED');"
      "PRAGMA user_version = 19;";
  ASSERT_EQ(system(("sqlite3 " + path + " \"" + script + "\"").c_str()), 0);
  auto catalog = SqliteCatalog::Open(path);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  auto sets = (*catalog)->ListSets({});
  ASSERT_TRUE(sets.ok());
  ASSERT_EQ(sets->size(), 2u);
  EXPECT_EQ((*sets)[0].id(), "s-a1");  // written last, listed first
  auto jobs = (*catalog)->ListJobs("s-a1");
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].id(), "j.10");
  EXPECT_EQ((*jobs)[2].id(), "j.1");
  // New rows go after them.
  v1::BackupSet set = MakeSet("s-0new", 100);
  ASSERT_TRUE((*catalog)->CreateSet(set).ok());
  v1::Job job;
  job.set_id("j.0");
  job.set_set_id("s-a1");
  ASSERT_TRUE((*catalog)->UpsertJob(job).ok());
  EXPECT_EQ((*(*catalog)->ListSets({}))[0].id(), "s-0new");
  EXPECT_EQ((*(*catalog)->ListJobs("s-a1"))[3].id(), "j.0");
}

TEST(SqliteCatalogTest, RefusesACatalogFromTheFuture) {
  testing::TempDir dir;
  {
    auto catalog = SqliteCatalog::Open(dir / "catalog.db");
    ASSERT_TRUE(catalog.ok());
  }
  std::string out;
  ASSERT_EQ(system(("sqlite3 " + (dir / "catalog.db") +
                    " 'PRAGMA user_version = 999'")
                       .c_str()),
            0);
  auto catalog = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_FALSE(catalog.ok());
  EXPECT_NE(catalog.status().message().find("run a newer scheduler"),
            std::string::npos);
}

}  // namespace
}  // namespace dxbackup::scheduler
