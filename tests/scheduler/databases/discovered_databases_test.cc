// A `discover` entry's databases: which of a server's databases become
// members (left out, refused with what to do), the config each is dumped
// with, and which config restores a stored dump.
#include "scheduler/databases/discovered_databases.h"

#include <gtest/gtest.h>

namespace dxbackup::scheduler {
namespace {

class DiscoveredDatabasesTest : public ::testing::Test {
 protected:
  DiscoveredDatabasesTest() {
    v1::Database* listed = deployment_.add_databases();
    listed->set_name("media");
    listed->set_dbname("dxmediadb");
    listed->set_host("/run/pg");
    entry_ = deployment_.add_databases();
    entry_->set_name("persistence");
    entry_->set_discover(true);
    entry_->set_host("/run/pg");
    entry_->set_user("dxadmin");
    entry_->set_password_file("/secrets/pg");
    entry_->set_restore_jobs(4);
    entry_->add_exclude("scratch");
  }

  v1::Deployment deployment_;
  v1::Database* entry_;
};

TEST_F(DiscoveredDatabasesTest, LeavesOutPostgresTheExcludedAndTheListed) {
  std::set<std::string> taken;
  const DiscoveredSelection selected = SelectDiscovered(
      deployment_, *entry_,
      {"dxmediadb", "jcrdb", "postgres", "scratch", "wpsdb"}, &taken);
  EXPECT_EQ(selected.problem, "");
  EXPECT_EQ(selected.databases, (std::vector<std::string>{"jcrdb", "wpsdb"}));
  EXPECT_EQ(taken, (std::set<std::string>{"jcrdb", "wpsdb"}));
}

TEST_F(DiscoveredDatabasesTest,
       AListedDatabaseOfAnotherServerIsNoReasonToSkip) {
  deployment_.mutable_databases(0)->set_host("/run/other");
  deployment_.mutable_databases(0)->set_name("dxmediadb");
  std::set<std::string> taken;
  const DiscoveredSelection selected =
      SelectDiscovered(deployment_, *entry_, {"dxmediadb"}, &taken);
  EXPECT_TRUE(selected.databases.empty());
  EXPECT_NE(selected.problem.find(
                "\"dxmediadb\" is the name of another member of the set"),
            std::string::npos)
      << selected.problem;
}

TEST_F(DiscoveredDatabasesTest, NamesEachDatabaseThatCannotBeAMember) {
  std::set<std::string> taken = {"jcrdb"};  // an earlier entry's
  const DiscoveredSelection selected = SelectDiscovered(
      deployment_, *entry_,
      {"jcrdb", "persistence", "a/b", "..", "tab\tname", "fine"}, &taken);
  EXPECT_EQ(selected.databases, std::vector<std::string>{"fine"})
      << "the usable ones are dumped all the same";
  const std::string& message = selected.problem;
  for (const char* part :
       {"database discovery persistence found", "\"jcrdb\" is the name of",
        "\"persistence\" is the name of", "\"a/b\" is not a usable",
        "\"..\" is not a usable", "\"tab\\x09name\" is not a usable",
        "add it to exclude"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << "\n" << message;
  }
  EXPECT_EQ(message.find("\"fine\""), std::string::npos) << message;
  EXPECT_EQ(taken, (std::set<std::string>{"jcrdb", "fine"}));
}

TEST_F(DiscoveredDatabasesTest, ADiscoveredDatabaseHasTheEntrysConnection) {
  DatabaseConfig db = DiscoveredDatabase(*entry_, "jcrdb");
  EXPECT_EQ(db->name(), "jcrdb");
  EXPECT_EQ(db->dbname(), "jcrdb");
  EXPECT_EQ(db->host(), "/run/pg");
  EXPECT_EQ(db->user(), "dxadmin");
  EXPECT_EQ(db->password_file(), "/secrets/pg");
  EXPECT_EQ(db->restore_jobs(), 4);
  EXPECT_FALSE(db->discover());
  EXPECT_TRUE(db->exclude().empty());
}

TEST_F(DiscoveredDatabasesTest, AStoredDumpIsRestoredWithTheConfigThatTookIt) {
  v1::Artifact listed;
  listed.set_target("db/media");
  DatabaseConfig media = DatabaseFor(&deployment_, listed);
  EXPECT_EQ(media.get(), &deployment_.databases(0)) << "the listed one";

  v1::Artifact found;
  found.set_target("db/jcrdb");
  found.set_discovered_by("persistence");
  DatabaseConfig jcr = DatabaseFor(&deployment_, found);
  ASSERT_NE(jcr, nullptr);
  EXPECT_EQ(jcr->dbname(), "jcrdb");
  EXPECT_EQ(jcr->host(), "/run/pg");

  v1::Artifact globals;
  globals.set_target("db/persistence");
  EXPECT_EQ(DatabaseFor(&deployment_, globals).get(), entry_);

  found.set_discovered_by("gone");
  EXPECT_EQ(DatabaseFor(&deployment_, found), nullptr) << "no such entry";
  found.set_discovered_by("persistence");
  found.set_target("db/../etc");
  EXPECT_EQ(DatabaseFor(&deployment_, found), nullptr) << "no such name";
  EXPECT_EQ(DatabaseFor(nullptr, listed), nullptr);
}

}  // namespace
}  // namespace dxbackup::scheduler
