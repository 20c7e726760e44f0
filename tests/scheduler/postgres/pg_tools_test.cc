#include "scheduler/postgres/pg_tools.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "scheduler/postgres/pg_connection.h"
#include "scheduler/postgres/pg_dump_runner.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

// A fake pg_dump that only answers --version.
void FakeTool(const std::string& dir, const std::string& version) {
  const std::string path = dir + "/pg_dump";
  testing::WriteFile(path, "#!/bin/sh\necho 'pg_dump (PostgreSQL) " + version +
                               " (Debian " + version + "-1)'\n");
  chmod(path.c_str(), 0755);
}

TEST(PgToolsTest, ParsesVersions) {
  auto tool = ParsePgToolVersion(
      "/usr/bin/pg_dump",
      "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n");
  ASSERT_TRUE(tool.ok());
  EXPECT_EQ(tool->major, 15);
  EXPECT_EQ(tool->version, "15.18");
  EXPECT_FALSE(ParsePgToolVersion("x", "not a version").ok());
}

TEST(PgToolsTest, PicksTheOldestToolThatIsNewEnough) {
  testing::TempDir dir;
  FakeTool(dir / "14", "14.11");
  FakeTool(dir / "16", "16.2");
  FakeTool(dir / "17", "17.1");
  std::vector<std::string> dirs = {dir / "17", dir / "14", dir / "16"};
  auto tool = FindPgTool("pg_dump", 160002, "", &dirs);
  ASSERT_TRUE(tool.ok()) << tool.status();
  EXPECT_EQ(tool->version, "16.2");
}

TEST(PgToolsTest, TooOldToolNamesBothVersionsAndTheFix) {
  testing::TempDir dir;
  FakeTool(dir / "15", "15.4");
  std::vector<std::string> dirs = {dir / "15"};
  auto tool = FindPgTool("pg_dump", 160002, "", &dirs);
  ASSERT_FALSE(tool.ok());
  const std::string msg(tool.status().message());
  EXPECT_NE(msg.find("pg_dump 15.4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("server 16.2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("install postgresql-client-16"), std::string::npos) << msg;

  auto configured = FindPgTool("pg_dump", 160002, dir / "15/pg_dump");
  ASSERT_FALSE(configured.ok());
  EXPECT_NE(configured.status().message().find("15.4"), std::string::npos);
}

}  // namespace
}  // namespace dxbackup::scheduler

namespace dxbackup::scheduler {
namespace {

TEST(PgVersionTest, MajorVersionsAsPostgreSQLCountsThem) {
  EXPECT_EQ(PgMajorVersion(160004), 16);
  EXPECT_EQ(PgMajorVersion(110022), 11);
  EXPECT_EQ(PgMajorVersion(100001), 10);
  EXPECT_EQ(PgMajorVersion(90624), 906);  // 9.6: two numbers before 10
  EXPECT_NE(PgMajorVersion(90624), PgMajorVersion(90520));
  EXPECT_EQ(PgVersionString(160004), "16.4");
  EXPECT_EQ(PgVersionString(90624), "9.6.24");
}

}  // namespace
}  // namespace dxbackup::scheduler
