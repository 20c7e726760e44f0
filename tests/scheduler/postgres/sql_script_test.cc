// A SQL script split where psql splits it, whatever hides a ';' or a line
// break, and the role each statement is about.
#include "scheduler/postgres/sql_script.h"

#include <gtest/gtest.h>

namespace dxbackup::scheduler {
namespace {

TEST(SplitSqlScriptTest, SplitsAtSemicolonsOutsideQuotesAndComments) {
  const std::vector<std::string> parts = SplitSqlScript(
      "SET a = 'x;y';\n"
      "-- a comment; not a statement\n"
      "COMMENT ON ROLE r IS E'it''s \\' ; still';\n"
      "CREATE ROLE \"semi;colon\";\n"
      "/* outer /* nested; */ still; */ SELECT $f$ ; $f$;\n"
      "SELECT $$;$$, 1;\n"
      "\\connect -reuse-previous=on \"dbname='x;y'\"\n"
      "SELECT 1");
  ASSERT_EQ(parts.size(), 7u);
  EXPECT_EQ(parts[0], "SET a = 'x;y';");
  EXPECT_EQ(parts[1],
            "\n-- a comment; not a statement\n"
            "COMMENT ON ROLE r IS E'it''s \\' ; still';");
  EXPECT_EQ(parts[2], "\nCREATE ROLE \"semi;colon\";");
  EXPECT_EQ(parts[3], "\n/* outer /* nested; */ still; */ SELECT $f$ ; $f$;");
  EXPECT_EQ(parts[4], "\nSELECT $$;$$, 1;");
  EXPECT_EQ(parts[5], "\n\\connect -reuse-previous=on \"dbname='x;y'\"\n");
  EXPECT_EQ(parts[6], "SELECT 1");
  EXPECT_TRUE(SplitSqlScript("  \n-- only a comment\n").empty());
}

TEST(SplitSqlScriptTest, AQuotedLineBreakStaysInItsStatement) {
  const std::vector<std::string> parts = SplitSqlScript(
      "COMMENT ON ROLE dxuser IS 'x\nALTER ROLE dxadmin WITH NOLOGIN;';\n"
      "ALTER ROLE dxuser WITH LOGIN;\n");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(RoleOfStatement(parts[0]), "dxuser");
  EXPECT_EQ(RoleOfStatement(parts[1]), "dxuser");
}

TEST(RoleOfStatementTest, NamesTheRoleAsTheServerSpellsIt) {
  EXPECT_EQ(RoleOfStatement("CREATE ROLE dxuser;"), "dxuser");
  EXPECT_EQ(RoleOfStatement("\n-- x\nALTER ROLE DxUser WITH LOGIN;"), "dxuser");
  EXPECT_EQ(RoleOfStatement("ALTER ROLE \"Dx \"\"Q\"\"\" SET a TO 'b';"),
            "Dx \"Q\"");
  EXPECT_EQ(RoleOfStatement("COMMENT ON ROLE r1 IS 'c';"), "r1");
  EXPECT_EQ(RoleOfStatement("SECURITY LABEL FOR selinux ON ROLE r2 IS 'l';"),
            "r2");
  EXPECT_EQ(RoleOfStatement("SECURITY LABEL ON ROLE \"R3\" IS 'l';"), "R3");
  for (const char* other :
       {"GRANT r TO s;", "SET client_encoding = 'UTF8';", "CREATE TABLE t();",
        "COMMENT ON DATABASE d IS 'x';", "\\restrict k\n", ""}) {
    EXPECT_EQ(RoleOfStatement(other), "") << other;
  }
}

}  // namespace
}  // namespace dxbackup::scheduler
