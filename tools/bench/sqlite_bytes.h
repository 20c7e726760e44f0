// How many bytes a SQLite catalog spends on its file index: the pages of
// the files table and its indexes (SQLite's dbstat), for the benches that
// report bytes per file row. Header-only.
#ifndef DXBACKUP_TOOLS_BENCH_SQLITE_BYTES_H_
#define DXBACKUP_TOOLS_BENCH_SQLITE_BYTES_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace dxbackup::bench {

// -1 when the database cannot be read.
inline int64_t SqliteFilesBytes(const std::string& path) {
  sqlite3* db = nullptr;
  int64_t bytes = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db,
                           "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                           "(SELECT name FROM sqlite_master WHERE tbl_name = "
                           "'files')",
                           -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      bytes = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return bytes;
}

}  // namespace dxbackup::bench

#endif  // DXBACKUP_TOOLS_BENCH_SQLITE_BYTES_H_
