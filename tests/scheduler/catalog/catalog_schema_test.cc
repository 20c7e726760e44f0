// The catalog's schema is described once (catalog_schema.h) and rendered
// for each engine: every migration applied to SQLite and to PostgreSQL
// must leave the same tables, columns, keys and indexes, so that neither
// engine drifts from the other.
#include "scheduler/catalog/catalog_schema.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "scheduler/catalog/postgres_catalog.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/postgres/pg_connection.h"
#include "tests/support/shared_pg.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

// A schema as both engines can say it; each line compares as text.
struct Schema {
  // "table.column type [not null] [default D] [pk N]", in column order.
  std::vector<std::string> columns;
  // "UNIQUE table (a, b)", and "INDEX name ON table (a, b) [WHERE p]".
  std::set<std::string> keys;
};

// A predicate or default as text to compare: no parentheses, casts or
// spaces, lower case.
std::string Normal(std::string text) {
  text = absl::StrReplaceAll(text, {{"::text", ""}, {"::bigint", ""}});
  std::string out;
  for (char c : text) {
    if (c != '(' && c != ')' && c != ' ') out += absl::ascii_tolower(c);
  }
  return out;
}

std::vector<std::vector<std::string>> SqliteRows(sqlite3* db,
                                                 const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
      << sql << ": " << sqlite3_errmsg(db);
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    std::vector<std::string>& row = rows.emplace_back();
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const unsigned char* t = sqlite3_column_text(st, c);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
  }
  sqlite3_finalize(st);
  return rows;
}

Schema SqliteSchema(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  Schema schema;
  for (const auto& t : SqliteRows(
           db,
           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
           "LIKE 'sqlite_%' ORDER BY name")) {
    const std::string& table = t[0];
    for (const auto& c :
         SqliteRows(db,
                    "SELECT name, type, \"notnull\", dflt_value, pk FROM "
                    "pragma_table_info('" +
                        table + "') ORDER BY cid")) {
      const bool pk = c[4] != "0";
      schema.columns.push_back(
          absl::StrCat(table, ".", c[0], " ", absl::AsciiStrToLower(c[1]),
                       c[2] == "1" || pk ? " not null" : "",
                       c[3].empty() ? "" : " default " + Normal(c[3]),
                       pk ? " pk " + c[4] : ""));
    }
    for (const auto& i : SqliteRows(
             db, "SELECT name, \"unique\", origin FROM pragma_index_list('" +
                     table + "')")) {
      if (i[2] == "pk") continue;  // the columns say it
      std::vector<std::string> columns;
      for (const auto& c :
           SqliteRows(db, "SELECT name FROM pragma_index_info('" + i[0] +
                              "') ORDER BY seqno")) {
        columns.push_back(c[0]);
      }
      const std::string list = absl::StrJoin(columns, ", ");
      if (i[2] == "u") {
        schema.keys.insert(absl::StrCat("UNIQUE ", table, " (", list, ")"));
        continue;
      }
      const auto sql = SqliteRows(
          db, "SELECT sql FROM sqlite_master WHERE name = '" + i[0] + "'");
      const std::string text = sql.empty() ? "" : sql[0][0];
      const size_t where = text.find(" WHERE ");
      schema.keys.insert(
          absl::StrCat(i[1] == "1" ? "UNIQUE " : "", "INDEX ", i[0], " ON ",
                       table, " (", list, ")",
                       where == std::string::npos
                           ? ""
                           : " WHERE " + Normal(text.substr(where + 7))));
    }
  }
  sqlite3_close(db);
  return schema;
}

Schema PostgresSchema(PgConnection& pg) {
  Schema schema;
  auto rows = [&](const std::string& sql,
                  const std::vector<std::string>& params = {}) {
    auto r = pg.Query(sql, params);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
    return r.ok() ? *r : std::vector<std::vector<std::string>>{};
  };
  for (const auto& t :
       rows("SELECT table_name FROM information_schema.tables WHERE "
            "table_schema = 'public' AND table_name <> "
            "'dxbackup_schema_version' ORDER BY table_name COLLATE \"C\"")) {
    const std::string& table = t[0];
    std::map<std::string, std::string> pk;  // column -> position
    for (const auto& k :
         rows("SELECT a.attname, array_position(i.indkey, a.attnum) + 1 FROM "
              "pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
              "a.attnum = ANY (i.indkey) WHERE i.indrelid = $1::regclass AND "
              "i.indisprimary",
              {table})) {
      pk[k[0]] = k[1];
    }
    for (const auto& c :
         rows("SELECT column_name, data_type, is_nullable, "
              "COALESCE(column_default, ''), COALESCE(collation_name, '') "
              "FROM information_schema.columns WHERE table_schema = 'public' "
              "AND table_name = $1 ORDER BY ordinal_position",
              {table})) {
      // Text compares byte by byte on both (SQLite's BINARY).
      if (c[1] == "text") {
        EXPECT_EQ(c[4], "C") << table << "." << c[0];
      }
      // 64-bit integers and text; anything else (a 32-bit integer) differs.
      const std::string type = c[1] == "bigint" ? "integer"
                               : c[1] == "text" ? "text"
                                                : "postgres " + c[1];
      schema.columns.push_back(absl::StrCat(
          table, ".", c[0], " ", type, c[2] == "NO" ? " not null" : "",
          c[3].empty() ? "" : " default " + Normal(c[3]),
          pk.count(c[0]) ? " pk " + pk[c[0]] : ""));
    }
    for (const auto& i :
         rows("SELECT c.relname, i.indisunique, i.indisprimary, "
              "COALESCE(con.contype, ''), pg_get_indexdef(i.indexrelid), "
              "COALESCE(pg_get_expr(i.indpred, i.indrelid), '') FROM pg_index "
              "i JOIN pg_class c ON c.oid = i.indexrelid LEFT JOIN "
              "pg_constraint con ON con.conindid = i.indexrelid WHERE "
              "i.indrelid = $1::regclass",
              {table})) {
      if (i[2] == "t") continue;  // the primary key: the columns say it
      const std::string& def = i[4];
      const size_t open = def.find(" (");
      const size_t close = def.find(')', open);
      const std::string list = def.substr(open + 2, close - open - 2);
      if (i[3] == "u") {
        schema.keys.insert(absl::StrCat("UNIQUE ", table, " (", list, ")"));
        continue;
      }
      schema.keys.insert(absl::StrCat(
          i[1] == "t" ? "UNIQUE " : "", "INDEX ", i[0], " ON ", table, " (",
          list, ")", i[5].empty() ? "" : " WHERE " + Normal(i[5])));
    }
  }
  return schema;
}

TEST(CatalogSchemaTest, BothEnginesLeaveTheSameSchema) {
  testing::TempDir dir;
  {
    auto sqlite = SqliteCatalog::Open(dir / "catalog.db");
    ASSERT_TRUE(sqlite.ok()) << sqlite.status();
  }
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto postgres = PostgresCatalog::Open(*db);
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  EXPECT_EQ(*(*postgres)->SchemaVersion(),
            SqliteCatalog::LatestSchemaVersion());
  absl::StatusOr<std::string> password = ReadPassword(*db);
  ASSERT_TRUE(password.ok());
  auto pg = PgConnection::Open(*db, *password);
  ASSERT_TRUE(pg.ok()) << pg.status();

  const Schema lite = SqliteSchema(dir / "catalog.db");
  const Schema post = PostgresSchema(**pg);
  ASSERT_FALSE(lite.columns.empty());
  EXPECT_EQ(absl::StrJoin(lite.columns, "\n"),
            absl::StrJoin(post.columns, "\n"));
  EXPECT_EQ(absl::StrJoin(lite.keys, "\n"), absl::StrJoin(post.keys, "\n"));
  // What the comparison relies on is there to compare.
  EXPECT_TRUE(lite.keys.count("UNIQUE artifacts (set_id, target)"))
      << absl::StrJoin(lite.keys, "\n");
  EXPECT_TRUE(
      lite.keys.count("INDEX files_by_path ON files (path) WHERE unchanged=0"))
      << absl::StrJoin(lite.keys, "\n");
}

TEST(CatalogSchemaTest, PostgresReadsIntegersAsBigintAndRowIdsAsIdentity) {
  EXPECT_EQ(RenderForEngine(SqlEngine::kPostgres,
                            "id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER "
                            "NOT NULL, t TEXT, INTEGERS TEXT"),
            "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT "
            "NOT NULL, t TEXT COLLATE \"C\", INTEGERS TEXT COLLATE \"C\"");
  EXPECT_EQ(RenderForEngine(SqlEngine::kSqlite, "UPDATE t SET seq = ROW_ORDER"),
            "UPDATE t SET seq = rowid");
  EXPECT_EQ(
      RenderForEngine(SqlEngine::kPostgres, "UPDATE t SET seq = ROW_ORDER"),
      "UPDATE t SET seq = 0");
}

}  // namespace
}  // namespace dxbackup::scheduler
