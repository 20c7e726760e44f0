// What a roles restore runs of a pg_dumpall --globals-only script: the
// statements about roles the server lacks, and none about the roles it
// has (the restoring one's password among them), however the script's
// strings and names are written.
#include "scheduler/postgres/pg_cluster.h"

#include <gtest/gtest.h>

namespace dxbackup::scheduler {
namespace {

// As pg_dumpall 15 writes it (less the roles' password hashes).
constexpr char kScript[] =
    "--\n-- PostgreSQL database cluster dump\n--\n\n"
    "\\restrict AbC123\n\n"
    "SET default_transaction_read_only = off;\n\n"
    "SET client_encoding = 'UTF8';\n"
    "SET standard_conforming_strings = on;\n\n"
    "--\n-- Roles\n--\n\n"
    "CREATE ROLE dxadmin;\n"
    "ALTER ROLE dxadmin WITH SUPERUSER INHERIT LOGIN PASSWORD 'SCRAM-old';\n"
    "CREATE ROLE dxuser;\n"
    "ALTER ROLE dxuser WITH NOSUPERUSER LOGIN PASSWORD 'SCRAM-app';\n"
    "COMMENT ON ROLE dxuser IS 'the app;\n"
    "ALTER ROLE dxadmin WITH NOLOGIN;';\n"
    "CREATE ROLE \"Dx Reader\";\n"
    "ALTER ROLE \"Dx Reader\" WITH NOLOGIN;\n\n"
    "--\n-- Role memberships\n--\n\n"
    "GRANT \"Dx Reader\" TO dxuser GRANTED BY dxadmin;\n\n"
    "\\unrestrict AbC123\n\n"
    "--\n-- PostgreSQL database cluster dump complete\n--\n\n";

TEST(GlobalsToRestoreTest, OnANewServerEverythingButTheRestoringRole) {
  const std::string out = GlobalsToRestore(kScript, {"dxadmin"});
  EXPECT_EQ(out.find("dxadmin WITH SUPERUSER"), std::string::npos) << out;
  EXPECT_EQ(out.find("CREATE ROLE dxadmin"), std::string::npos) << out;
  for (const char* kept :
       {"\\restrict AbC123\n", "SET default_transaction_read_only = off;",
        "CREATE ROLE dxuser;", "PASSWORD 'SCRAM-app';",
        "COMMENT ON ROLE dxuser IS 'the app;\nALTER ROLE dxadmin WITH "
        "NOLOGIN;';",
        "CREATE ROLE \"Dx Reader\";", "GRANT \"Dx Reader\" TO dxuser",
        "\\unrestrict AbC123\n"}) {
    EXPECT_NE(out.find(kept), std::string::npos) << kept << "\n" << out;
  }
}

TEST(GlobalsToRestoreTest, RolesTheServerHasAreLeftAsTheyAre) {
  const std::string out =
      GlobalsToRestore(kScript, {"dxadmin", "dxuser", "Dx Reader"});
  EXPECT_EQ(out.find("ROLE"), std::string::npos) << out;
  EXPECT_NE(out.find("GRANT \"Dx Reader\" TO dxuser GRANTED BY dxadmin;"),
            std::string::npos)
      << "memberships are added whatever existed: " << out;
  EXPECT_EQ(GlobalsToRestore("", {"dxadmin"}), "");
}

}  // namespace
}  // namespace dxbackup::scheduler
