// Copies a SQLite catalog (the embedded default) into a PostgreSQL one
// (`dxbackup-scheduler migrate-catalog --from-sqlite PATH`), and proves
// the copy: each table's row count, and a SHA-256 over its rows in one
// order (every column, in schema order), read back from both sides.
//
//   auto tables = CopySqliteCatalog("/data/catalog.db", config.postgres(),
//                                   [](const std::string& line) { ... });
//
// The SQLite file is first brought to the latest schema (as a scheduler
// starting on it would); the PostgreSQL database gets the schema and must
// hold no rows yet, so that nothing there is mixed or overwritten. The
// rows go in one transaction: a copy that fails leaves the database
// empty. Run it with no scheduler using either catalog.
#ifndef DXBACKUP_SCHEDULER_CATALOG_CATALOG_COPY_H_
#define DXBACKUP_SCHEDULER_CATALOG_CATALOG_COPY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

// One table as found on each side.
struct TableDigest {
  std::string table;
  int64_t source_rows = 0, copied_rows = 0;
  std::string source_sha256, copied_sha256;
  bool same() const {
    return source_rows == copied_rows && source_sha256 == copied_sha256;
  }
};

// Copies, then verifies (VerifyCatalogCopy). `progress` is told of each
// table as it goes. An error names the table and what failed.
absl::StatusOr<std::vector<TableDigest>> CopySqliteCatalog(
    const std::string& sqlite_path, const v1::Database& server,
    const std::function<void(const std::string&)>& progress);

// Counts and digests every table of the catalog on both sides.
absl::StatusOr<std::vector<TableDigest>> VerifyCatalogCopy(
    const std::string& sqlite_path, const v1::Database& server);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_CATALOG_COPY_H_
