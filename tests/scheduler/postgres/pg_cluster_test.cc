// What a globals restore makes of psql's stderr (a role that exists
// already is no failure, anything else is), and of the script (the
// connecting role's password stays as configured).
#include "scheduler/postgres/pg_cluster.h"

#include <gtest/gtest.h>

namespace dxbackup::scheduler {
namespace {

TEST(UnexpectedPsqlErrorsTest, AnExistingRoleIsNoError) {
  EXPECT_EQ(UnexpectedPsqlErrors(
                "psql:<stdin>:14: ERROR:  42710: role \"dxadmin\" already "
                "exists\nLOCATION:  CreateRole, user.c:345\n"),
            "");
  EXPECT_EQ(UnexpectedPsqlErrors(""), "");
}

TEST(UnexpectedPsqlErrorsTest, AnyOtherErrorIsKeptLineByLine) {
  const std::string errors = UnexpectedPsqlErrors(
      "psql:<stdin>:14: ERROR:  42710: role \"dx\" already exists\n"
      "psql:<stdin>:20: ERROR:  42501: permission denied to create role\n"
      "LOCATION:  CreateRole, user.c:310\n"
      "psql:<stdin>:31: ERROR:  58P01: directory \"/srv/ts\" does not exist\n");
  EXPECT_EQ(errors,
            "psql:<stdin>:20: ERROR:  42501: permission denied to create "
            "role\npsql:<stdin>:31: ERROR:  58P01: directory \"/srv/ts\" "
            "does not exist");
}

TEST(WithoutRoleAttributesTest, LeavesTheConnectingRolesPasswordAlone) {
  const std::string script =
      "CREATE ROLE dxadmin;\n"
      "ALTER ROLE dxadmin WITH SUPERUSER LOGIN PASSWORD 'SCRAM-SHA-256$old';\n"
      "CREATE ROLE dxuser;\n"
      "ALTER ROLE dxuser WITH LOGIN PASSWORD 'SCRAM-SHA-256$app';\n"
      "ALTER ROLE dxadminx WITH LOGIN;\n";
  EXPECT_EQ(WithoutRoleAttributes(script, "dxadmin", "\"dxadmin\""),
            "CREATE ROLE dxadmin;\n"
            "-- (the restoring role's attributes and password left as they "
            "are)\n"
            "CREATE ROLE dxuser;\n"
            "ALTER ROLE dxuser WITH LOGIN PASSWORD 'SCRAM-SHA-256$app';\n"
            "ALTER ROLE dxadminx WITH LOGIN;\n");
  EXPECT_EQ(WithoutRoleAttributes("ALTER ROLE \"Dx Admin\" WITH SUPERUSER;",
                                  "Dx Admin", "\"Dx Admin\""),
            "-- (the restoring role's attributes and password left as they "
            "are)");
}

TEST(DescribeServerTest, NamesTheServerWithoutSecrets) {
  v1::Database entry;
  entry.set_host("pg.dx.svc");
  entry.set_port(5433);
  entry.set_user("dxadmin");
  entry.set_password_file("/secrets/pg");
  EXPECT_EQ(DescribeServer(entry),
            "every database of host=pg.dx.svc port=5433 user=dxadmin");
}

}  // namespace
}  // namespace dxbackup::scheduler
