#include "scheduler/catalog/catalog_copy.h"

#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/sha256.h"
#include "scheduler/catalog/postgres_catalog.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/postgres/pg_connection.h"

namespace dxbackup::scheduler {
namespace {

constexpr size_t kCopyBatchBytes = 8 << 20;
constexpr int kRowsPerFetch = 5000;

// A read-only SQLite handle that closes itself.
struct Sqlite {
  sqlite3* db = nullptr;
  ~Sqlite() { sqlite3_close(db); }
};

// One statement, stepped row by row; NULL reads as "".
class Rows {
 public:
  Rows(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr);
  }
  ~Rows() { sqlite3_finalize(st_); }
  // True for a row; false at the end or on an error (see status()).
  bool Next() {
    if (rc_ != SQLITE_OK && rc_ != SQLITE_ROW) return false;
    rc_ = sqlite3_step(st_);
    return rc_ == SQLITE_ROW;
  }
  int columns() const { return sqlite3_column_count(st_); }
  std::string Text(int c) const {
    const unsigned char* t = sqlite3_column_text(st_, c);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           sqlite3_column_bytes(st_, c))
             : std::string();
  }
  absl::Status status(const std::string& what) const {
    if (rc_ == SQLITE_OK || rc_ == SQLITE_ROW || rc_ == SQLITE_DONE) {
      return absl::OkStatus();
    }
    return absl::InternalError(
        absl::StrCat("reading ", what, ": ", sqlite3_errmsg(db_)));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  int rc_;
};

struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::string> references;  // tables its foreign keys name
};

// The catalog's tables, as the (migrated) SQLite file has them, each
// after the tables it references (so that a copy in this order satisfies
// every foreign key as it goes).
absl::StatusOr<std::vector<Table>> TablesOf(sqlite3* db) {
  std::vector<Table> tables;
  Rows names(db,
             "SELECT name FROM sqlite_master WHERE type = 'table' AND name "
             "NOT LIKE 'sqlite_%' ORDER BY name");
  while (names.Next()) tables.push_back({names.Text(0), {}});
  if (absl::Status s = names.status("the tables"); !s.ok()) return s;
  for (Table& t : tables) {
    Rows columns(db, "SELECT name FROM pragma_table_info('" + t.name +
                         "') ORDER BY cid");
    while (columns.Next()) t.columns.push_back(columns.Text(0));
    if (absl::Status s = columns.status(t.name); !s.ok()) return s;
    Rows keys(db, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list('" +
                      t.name + "')");
    while (keys.Next()) t.references.push_back(keys.Text(0));
    if (absl::Status s = keys.status(t.name); !s.ok()) return s;
  }
  std::vector<Table> ordered;
  std::set<std::string> placed;
  while (!tables.empty()) {
    auto ready =
        std::find_if(tables.begin(), tables.end(), [&](const Table& t) {
          return std::all_of(t.references.begin(), t.references.end(),
                             [&](const std::string& r) {
                               return placed.count(r) || r == t.name;
                             });
        });
    if (ready == tables.end()) {
      return absl::InternalError("the catalog's foreign keys form a cycle");
    }
    placed.insert(ready->name);
    ordered.push_back(std::move(*ready));
    tables.erase(ready);
  }
  return ordered;
}

absl::StatusOr<std::unique_ptr<Sqlite>> OpenSqlite(const std::string& path) {
  auto db = std::make_unique<Sqlite>();
  if (sqlite3_open_v2(path.c_str(), &db->db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    return absl::UnavailableError(absl::StrCat("cannot open catalog ", path,
                                               ": ", sqlite3_errmsg(db->db)));
  }
  return db;
}

absl::StatusOr<std::unique_ptr<PgConnection>> OpenPostgres(
    const v1::Database& server) {
  absl::StatusOr<std::string> password = ReadPassword(server);
  if (!password.ok()) return password.status();
  return PgConnection::Open(server, *password);
}

// A row's values into a digest: each as its length and its bytes.
void Digest(common::Sha256& sha, const std::vector<std::string>& row) {
  for (const std::string& v : row) {
    sha.Update(absl::StrCat(v.size(), ":"));
    sha.Update(v);
  }
  sha.Update("\n");
}

// Both sides open, and the catalog's tables (TablesOf).
struct Sides {
  std::unique_ptr<Sqlite> lite;
  std::unique_ptr<PgConnection> pg;
  std::vector<Table> tables;
};

absl::StatusOr<Sides> OpenSides(const std::string& sqlite_path,
                                const v1::Database& server) {
  Sides sides;
  absl::StatusOr<std::unique_ptr<Sqlite>> lite = OpenSqlite(sqlite_path);
  if (!lite.ok()) return lite.status();
  sides.lite = *std::move(lite);
  absl::StatusOr<std::unique_ptr<PgConnection>> pg = OpenPostgres(server);
  if (!pg.ok()) return pg.status();
  sides.pg = *std::move(pg);
  absl::StatusOr<std::vector<Table>> tables = TablesOf(sides.lite->db);
  if (!tables.ok()) return tables.status();
  sides.tables = *std::move(tables);
  return sides;
}

}  // namespace

absl::StatusOr<std::vector<TableDigest>> VerifyCatalogCopy(
    const std::string& sqlite_path, const v1::Database& server) {
  absl::StatusOr<Sides> sides = OpenSides(sqlite_path, server);
  if (!sides.ok()) return sides.status();
  sqlite3* lite = sides->lite->db;
  PgConnection* pg = sides->pg.get();
  const std::vector<Table>& tables = sides->tables;
  std::vector<TableDigest> out;
  for (const Table& t : tables) {
    // Every column, in schema order, orders the rows alike on both (text
    // compares byte by byte on both: catalog_schema.h).
    const std::string columns = absl::StrJoin(t.columns, ", ");
    const std::string select = absl::StrCat("SELECT ", columns, " FROM ",
                                            t.name, " ORDER BY ", columns);
    TableDigest d;
    d.table = t.name;
    common::Sha256 source;
    Rows rows(lite, select);
    std::vector<std::string> row(t.columns.size());
    while (rows.Next()) {
      for (size_t c = 0; c < row.size(); ++c) row[c] = rows.Text(c);
      Digest(source, row);
      ++d.source_rows;
    }
    if (absl::Status s = rows.status(t.name); !s.ok()) return s;
    d.source_sha256 = source.HexDigest();

    common::Sha256 copied;
    absl::Status s = pg->Execute(
        absl::StrCat("BEGIN; DECLARE rows_read NO SCROLL CURSOR FOR ", select));
    for (bool more = s.ok(); more;) {
      auto fetched =
          pg->Query(absl::StrCat("FETCH ", kRowsPerFetch, " FROM rows_read"));
      if (!fetched.ok()) {
        s = fetched.status();
        break;
      }
      for (const std::vector<std::string>& r : *fetched) {
        Digest(copied, r);
        ++d.copied_rows;
      }
      more = fetched->size() == static_cast<size_t>(kRowsPerFetch);
    }
    pg->Execute("ROLLBACK").IgnoreError();
    if (!s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("reading ", t.name,
                                       " back from PostgreSQL: ", s.message()));
    }
    d.copied_sha256 = copied.HexDigest();
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<std::vector<TableDigest>> CopySqliteCatalog(
    const std::string& sqlite_path, const v1::Database& server,
    const std::function<void(const std::string&)>& progress) {
  {
    // A mistyped path or another pod's fresh volume must not pass for an
    // empty catalog: the source must be a catalog that holds sets.
    absl::StatusOr<std::unique_ptr<Sqlite>> source = OpenSqlite(sqlite_path);
    if (!source.ok()) return source.status();
    Rows version((*source)->db, "PRAGMA user_version");
    Rows sets((*source)->db, "SELECT count(*) FROM sets");
    if (!version.Next() || version.Text(0) == "0") {
      return absl::FailedPreconditionError(
          absl::StrCat(sqlite_path,
                       " is not a dxbackup catalog; give the "
                       "scheduler's DATA_DIR/catalog.db"));
    }
    if (!sets.Next() || sets.Text(0) == "0") {
      return absl::FailedPreconditionError(absl::StrCat(
          "the catalog ", sqlite_path,
          " holds no sets: nothing to migrate (is it the scheduler's "
          "DATA_DIR/catalog.db?)"));
    }
  }
  {
    // Both at the latest schema, as schedulers starting on them would
    // leave them.
    auto source = SqliteCatalog::Open(sqlite_path);
    if (!source.ok()) return source.status();
    auto target = PostgresCatalog::Open(server);
    if (!target.ok()) return target.status();
  }
  absl::StatusOr<Sides> sides = OpenSides(sqlite_path, server);
  if (!sides.ok()) return sides.status();
  sqlite3* lite = sides->lite->db;
  PgConnection* pg = sides->pg.get();
  const std::vector<Table>& tables = sides->tables;
  for (const Table& t : tables) {
    auto held =
        pg->Query(absl::StrCat("SELECT EXISTS (SELECT 1 FROM ", t.name, ")"));
    if (!held.ok()) return held.status();
    if (held->at(0).at(0) == "t") {
      return absl::FailedPreconditionError(absl::StrCat(
          "the PostgreSQL catalog (", DescribeDatabase(server),
          ") already holds rows in ", t.name,
          "; migrate into an empty database (nothing was copied)"));
    }
  }
  absl::Status s = pg->Execute("BEGIN");
  for (const Table& t : tables) {
    if (!s.ok()) break;
    const std::string columns = absl::StrJoin(t.columns, ", ");
    const std::string copy =
        absl::StrCat("COPY ", t.name, " (", columns, ") FROM STDIN");
    Rows rows(lite, absl::StrCat("SELECT ", columns, " FROM ", t.name));
    std::string batch;
    int64_t copied = 0;
    while (s.ok() && rows.Next()) {
      for (int c = 0; c < rows.columns(); ++c) {
        if (c > 0) batch.push_back('\t');
        AppendCopyField(rows.Text(c), &batch);
      }
      batch.push_back('\n');
      ++copied;
      if (batch.size() >= kCopyBatchBytes) {
        s = pg->CopyIn(copy, batch);
        batch.clear();
      }
    }
    if (s.ok()) s = rows.status(t.name);
    if (s.ok() && !batch.empty()) s = pg->CopyIn(copy, batch);
    // A row id column goes on after the copied ones.
    if (s.ok() && std::find(t.columns.begin(), t.columns.end(), "id") !=
                      t.columns.end()) {
      auto sequence = pg->Query(
          "SELECT COALESCE(pg_get_serial_sequence($1, 'id'), '')", {t.name});
      s = sequence.status();
      if (s.ok() && !sequence->at(0).at(0).empty()) {
        s = pg->Query(absl::StrCat("SELECT setval($1, (SELECT "
                                   "COALESCE(MAX(id), 0) + 1 FROM ",
                                   t.name, "), false)"),
                      {sequence->at(0).at(0)})
                .status();
      }
    }
    if (!s.ok()) {
      s = absl::Status(s.code(),
                       absl::StrCat("copying ", t.name, ": ", s.message()));
      break;
    }
    progress(absl::StrCat("copied ", t.name, ": ", copied, " rows"));
  }
  if (s.ok()) s = pg->Execute("COMMIT");
  if (!s.ok()) {
    pg->Execute("ROLLBACK").IgnoreError();
    return absl::Status(s.code(), absl::StrCat(s.message(),
                                               "; nothing was copied (the "
                                               "PostgreSQL catalog is empty)"));
  }
  return VerifyCatalogCopy(sqlite_path, server);
}

}  // namespace dxbackup::scheduler
