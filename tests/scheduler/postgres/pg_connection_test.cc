#include "scheduler/postgres/pg_connection.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <map>
#include <string>

namespace dxbackup::scheduler {
namespace {

// What libpq reads from a connection string: keyword -> value.
std::map<std::string, std::string> Parsed(const std::string& conninfo) {
  std::map<std::string, std::string> out;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    ADD_FAILURE() << conninfo << ": " << (error ? error : "?");
    PQfreemem(error);
    return out;
  }
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return out;
}

TEST(PgConnectionTest, ADatabaseNameStaysOneDatabaseNameForLibpq) {
  for (const std::string& name :
       {std::string("dxmediadb_restored"), std::string("host=evil dbname=x"),
        std::string("a' host='evil"), std::string("back\\\\slash' port=1"),
        std::string("postgresql://evil/x"), std::string("with space")}) {
    const std::map<std::string, std::string> read =
        Parsed(DbnameOnlyConninfo(name));
    EXPECT_EQ(read.size(), 1u) << name;
    EXPECT_EQ(read.count("host"), 0u) << name;
    ASSERT_EQ(read.count("dbname"), 1u) << name;
    EXPECT_EQ(read.at("dbname"), name);
  }
}

}  // namespace
}  // namespace dxbackup::scheduler
