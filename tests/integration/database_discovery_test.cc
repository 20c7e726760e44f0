// Every database of a persistence server, end to end, with a real
// scheduler and PostgreSQL: a `discover` entry puts each database the
// server has (less `exclude` and `postgres`) and the server's roles and
// grants (pg_dumpall --globals-only) into the set; a restore into an empty
// server (a new cluster where the old one was) recreates the roles, with
// their passwords and memberships, before the databases, which come back
// owned as they were; RESTORE.txt does the same by hand; and a standby is
// refused, as for a listed database.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "dxbackup/v1/admin.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::WriteFile;

const std::vector<std::string> kDatabases = {"dxmediadb", "jcrdb", "likeminds"};

class DatabaseDiscoveryTest : public ::testing::Test {
 protected:
  // One scheduler and server for the suite (see EndToEndTest on why it
  // starts from SetUp).
  void SetUp() override {
    static const bool ready = [] {
      StartSuite();
      return !::testing::Test::HasFailure();
    }();
    ASSERT_TRUE(ready) << "the suite did not start; its first test says why";
  }

  static void StartSuite() {
    work_ = new testing::TempDir;
    chmod(work_->path().c_str(), 0755);  // the postgres user enters it
    pg_ = new testing::PgTestServer(*work_ / "pg");
    standby_ = new testing::PgTestServer(*work_ / "pg-standby");
    std::string out;
    ASSERT_EQ(pg_->Start(&out), 0) << out;
    first_password_ = new std::string(testing::ReadFile(pg_->password_file()));
    // DX's persistence as a DBA would leave it: an application role that
    // logs in and owns two databases, a read-only role it is a member of,
    // a database of the superuser's, and one left out.
    // Its comment holds a line that reads like the restoring role's own
    // ALTER ROLE: the script is split into statements, never into lines.
    ASSERT_EQ(Sql("postgres",
                  "CREATE ROLE dxreader NOLOGIN; CREATE ROLE dxuser LOGIN "
                  "PASSWORD 'dxuser-secret' IN ROLE dxreader; COMMENT ON "
                  "ROLE dxuser IS E'the portal\\nALTER ROLE dxadmin WITH "
                  "NOLOGIN;';"),
              "");
    for (const std::string& db : kDatabases) {
      ASSERT_EQ(pg_->Run({"createdb", "-O",
                          db == "likeminds" ? "dxadmin" : "dxuser", db},
                         &out),
                0)
          << out;
      ASSERT_EQ(
          Sql(db, "SET ROLE " +
                      std::string(db == "likeminds" ? "dxadmin" : "dxuser") +
                      "; CREATE TABLE items (id int PRIMARY KEY, what "
                      "text); INSERT INTO items SELECT i, '" +
                      db +
                      " ' || i FROM generate_series(1, 2000) i; RESET ROLE; "
                      "GRANT SELECT ON items TO dxreader;"),
          "");
    }
    ASSERT_EQ(pg_->Run({"createdb", "scratch"}, &out), 0) << out;
    auto deployment = [](const std::string& release,
                         const testing::PgTestServer& server) {
      return "  - namespace: dx-prod\n    release: " + release +
             "\n    databases:\n      - name: persistence\n"
             "        discover: true\n        host: " +
             server.dir() + "\n        user: dxadmin\n        password_file: " +
             server.password_file() + "\n        exclude: [scratch]\n";
    };
    WriteFile(*work_ / "scheduler.yaml", "deployments:\n" +
                                             deployment("dx", *pg_) +
                                             deployment("standby", *standby_));
    scheduler_ =
        new testing::SchedulerProcess(testing::SchedulerIn(work_->path()));
    ASSERT_FALSE(scheduler_->address().empty()) << scheduler_->Output();
    cli_ = new testing::CliClient(scheduler_->address());
  }

  static void TearDownTestSuite() {
    if (scheduler_) scheduler_->Signal(SIGTERM);
    delete scheduler_;
    scheduler_ = nullptr;
    delete cli_;
    cli_ = nullptr;
    delete standby_;
    standby_ = nullptr;
    delete pg_;
    pg_ = nullptr;
    delete first_password_;
    first_password_ = nullptr;
    delete work_;
    work_ = nullptr;
  }

  // Runs `sql` in `db` as the superuser; "" when it went well, else psql's
  // output.
  static std::string Sql(const std::string& db, const std::string& sql) {
    std::string out;
    const int rc = pg_->Run(
        {"psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql},
        &out);
    return rc == 0 ? "" : out.empty() ? "psql failed" : out;
  }
  // The rows of `sql` in `db`, unaligned.
  static std::string Rows(const std::string& db, const std::string& sql) {
    std::string out;
    EXPECT_EQ(pg_->Run({"psql", "-X", "-A", "-t", "-d", db, "-c", sql}, &out),
              0)
        << out;
    return out;
  }
  // A dump of `db` with owners and grants, less pg_dump's per-run
  // \restrict lines.
  static std::string PlainDump(const std::string& db) {
    std::string out;
    EXPECT_EQ(pg_->Run({"pg_dump", "-d", db}, &out), 0) << out;
    return std::regex_replace(out, std::regex(R"(\\(un)?restrict [^\n]*)"), "");
  }
  // What a restore must bring back: the roles, the databases' owners, and
  // every database as pg_dump sees it.
  static std::string ServerState() {
    std::string state = Rows(
        "postgres",
        "SELECT rolname, rolcanlogin, rolsuper, shobj_description(oid, "
        "'pg_authid') FROM pg_roles WHERE rolname LIKE 'dx%' ORDER BY 1; "
        "SELECT r.rolname, m.rolname FROM "
        "pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles "
        "m ON m.oid = a.member ORDER BY 1, 2; SELECT datname, "
        "pg_get_userbyid(datdba) FROM pg_database WHERE NOT datistemplate "
        "AND datname <> 'scratch' ORDER BY 1");
    for (const std::string& db : kDatabases) state += PlainDump(db);
    return state;
  }
  // Replaces the server with a new, empty one in the same place (as after
  // losing the persistence volume), its superuser's password a new one,
  // or with `old_password` the first server's.
  static void EmptyServer(bool old_password) {
    std::string out;
    ASSERT_EQ(pg_->Stop(&out), 0) << out;
    fs::remove_all(fs::path(pg_->dir()) / "data");
    ASSERT_EQ(pg_->Start(&out), 0) << out;
    if (old_password) {
      ASSERT_EQ(Sql("postgres",
                    "ALTER ROLE dxadmin PASSWORD '" + *first_password_ + "'"),
                "");
      WriteFile(pg_->password_file(), *first_password_);
    }
    ASSERT_EQ(Rows("postgres",
                   "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'dx%'"),
              "1\n")
        << "only the superuser dxadmin";
  }
  // Backs up `release`; returns its set (the newest).
  static v1::BackupSet Backup(const std::string& release, int want_exit,
                              std::string* out) {
    return cli_->Backup("dx-prod", release, want_exit, out);
  }

  static testing::TempDir* work_;
  static testing::PgTestServer* pg_;
  static testing::PgTestServer* standby_;
  static testing::SchedulerProcess* scheduler_;
  static testing::CliClient* cli_;
  static std::string* first_password_;
};

testing::TempDir* DatabaseDiscoveryTest::work_ = nullptr;
testing::PgTestServer* DatabaseDiscoveryTest::pg_ = nullptr;
testing::PgTestServer* DatabaseDiscoveryTest::standby_ = nullptr;
testing::SchedulerProcess* DatabaseDiscoveryTest::scheduler_ = nullptr;
testing::CliClient* DatabaseDiscoveryTest::cli_ = nullptr;
std::string* DatabaseDiscoveryTest::first_password_ = nullptr;

TEST_F(DatabaseDiscoveryTest, AStandbyIsRefusedForTheRolesAndEveryDatabase) {
  std::string out;
  ASSERT_EQ(standby_->StartStandbyOf(*pg_, &out), 0) << out;
  const v1::BackupSet set = Backup("standby", 1, &out);
  EXPECT_EQ(set.status(), v1::SET_FAILED);
  for (const std::string& target :
       {"db/persistence", "db/dxmediadb", "db/jcrdb", "db/likeminds"}) {
    EXPECT_NE(set.reason().find(target + ": "), std::string::npos)
        << target << " in " << set.reason();
  }
  EXPECT_NE(set.reason().find("is a standby (pg_is_in_recovery() is true)"),
            std::string::npos)
      << set.reason();
  EXPECT_EQ(cli_->Json<v1::SetDetail>({"show", set.id()}).artifacts_size(), 0)
      << "nothing of a standby is stored";
  ASSERT_EQ(standby_->Stop(&out), 0) << out;
}

TEST_F(DatabaseDiscoveryTest, EveryDatabaseAndTheRolesGoBackIntoAnEmptyServer) {
  std::string out;
  const v1::BackupSet set = Backup("dx", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason();
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  std::vector<std::string> targets;
  for (const v1::Artifact& a : detail.artifacts()) {
    targets.push_back(a.target());
    if (a.target() == "db/persistence") {
      EXPECT_EQ(a.kind(), v1::ARTIFACT_PG_GLOBALS);
      EXPECT_EQ(fs::path(a.path()).filename(), "persistence.globals.sql.zst");
      EXPECT_GT(a.pg_server_version(), 0);
    } else {
      EXPECT_EQ(a.kind(), v1::ARTIFACT_PG_DUMP) << a.target();
      EXPECT_EQ(a.discovered_by(), "persistence") << a.target();
      EXPECT_EQ(a.pg_database_owner(),
                a.target() == "db/likeminds" ? "dxadmin" : "dxuser")
          << a.target();
    }
  }
  EXPECT_EQ(targets,
            (std::vector<std::string>{"db/dxmediadb", "db/jcrdb",
                                      "db/likeminds", "db/persistence"}))
      << "scratch is excluded, postgres left out";
  std::string globals;
  ASSERT_EQ(testing::RunCommand({"zstd", "-dc",
                                 *work_ / ("data/store/dx-prod/dx/" + set.id() +
                                           "/persistence.globals.sql.zst")},
                                &globals),
            0)
      << globals;
  EXPECT_NE(globals.find("CREATE ROLE dxuser;"), std::string::npos) << globals;
  EXPECT_NE(globals.find("GRANT dxreader TO dxuser"), std::string::npos)
      << globals;
  ASSERT_EQ(cli_->Run({"verify", set.id(), "--deep"}, &out), 0) << out;
  ASSERT_EQ(cli_->Run({"show", set.id()}, &out), 0) << out;
  EXPECT_NE(out.find("db/jcrdb was dumped from PostgreSQL"), std::string::npos)
      << out;
  EXPECT_NE(out.find("found by discovery db/persistence"), std::string::npos)
      << out;

  // The persistence volume is lost: a new, empty server in its place, with
  // a new superuser password (in the password_file the config names),
  // which the roles' restore leaves as it is.
  const std::string before = ServerState();
  EmptyServer(false);
  ASSERT_EQ(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_EQ(ServerState(), before);
  // The application logs in with its own password again, and its reader
  // role reads what it was granted.
  std::string rows;
  EXPECT_EQ(
      testing::RunCommand({"psql", "-q", "-X", "-A", "-t", "-d", "jcrdb", "-c",
                           "SET ROLE dxreader; SELECT count(*) FROM items"},
                          &rows,
                          {"PGHOST=" + pg_->dir(), "PGUSER=dxuser",
                           "PGPASSWORD=dxuser-secret"}),
      0)
      << rows;
  EXPECT_EQ(rows, "2000\n");

  // The same by hand, from an export: RESTORE.txt's commands as written.
  ASSERT_EQ(cli_->Run({"export", set.id(), "--to", *work_ / "export"}, &out), 0)
      << out;
  const std::string dir = *work_ / ("export/" + set.id());
  const std::string restore_txt = testing::ReadFile(dir + "/RESTORE.txt");
  EXPECT_NE(restore_txt.find("zstd -dc persistence.globals.sql.zst | psql -X "
                             "-q -d postgres"),
            std::string::npos)
      << restore_txt;
  EXPECT_LT(restore_txt.find("persistence.globals.sql.zst"),
            restore_txt.find("jcrdb.pgdump.zst"))
      << "the roles come first";
  std::string script = "set -e\ncd '" + dir + "'\n";
  std::istringstream text(restore_txt);
  std::string line;
  while (std::getline(text, line)) {
    if (line.rfind("    ", 0) == 0) script += line.substr(4) + "\n";
  }
  // By hand, psql sets the superuser's password as it was too: the new
  // server keeps the old one, as an operator would.
  EmptyServer(true);
  std::vector<std::string> env = pg_->Env();
  env.push_back("RESTORE_ROOT=" + *work_ / "from-export");
  ASSERT_EQ(testing::RunCommand({"bash", "-c", script}, &out, env), 0)
      << script << "\n"
      << out;
  EXPECT_EQ(ServerState(), before);
}

TEST_F(DatabaseDiscoveryTest, OverTheOriginalServerLiveRolesKeepTheirOwn) {
  std::string out;
  const v1::BackupSet set = Backup("dx", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason();
  // Since the set: the application's password changed, a role came, a
  // database lost its rows.
  ASSERT_EQ(Sql("postgres",
                "ALTER ROLE dxuser PASSWORD 'changed-since'; CREATE ROLE "
                "dxlater NOLOGIN;"),
            "");
  ASSERT_EQ(Sql("jcrdb", "DELETE FROM items"), "");
  ASSERT_EQ(cli_->Run({"restore", set.id()}, &out), 0) << out;
  EXPECT_EQ(Rows("jcrdb", "SELECT count(*) FROM items"), "2000\n");
  EXPECT_EQ(Rows("postgres",
                 "SELECT count(*) FROM pg_roles WHERE rolname = "
                 "'dxlater'"),
            "1\n");
  auto logs_in = [](const std::string& password) {
    std::string rows;
    return testing::RunCommand({"psql", "-q", "-X", "-A", "-t", "-d", "jcrdb",
                                "-c", "SELECT 1"},
                               &rows,
                               {"PGHOST=" + pg_->dir(), "PGUSER=dxuser",
                                "PGPASSWORD=" + password}) == 0;
  };
  EXPECT_TRUE(logs_in("changed-since"))
      << "a live role's password is not rolled back";
  EXPECT_FALSE(logs_in("dxuser-secret"));
}

}  // namespace
}  // namespace dxbackup
