// What a restore drill checks a PostgreSQL database against: the tables
// whose data a custom-format dump holds, read from its table of contents
// (`pg_restore --list`, which reads the dump's head only), and each
// table's rows as the restored database counts them.
#ifndef DXBACKUP_SCHEDULER_DRILLS_DUMP_TABLES_H_
#define DXBACKUP_SCHEDULER_DRILLS_DUMP_TABLES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

struct DumpTable {
  std::string schema;
  std::string name;
};

// The TABLE DATA entries of `pg_restore --list`'s output, in its order.
// A name with spaces keeps them (the owner is the last word).
std::vector<DumpTable> ParseTableData(const std::string& listing);

// The tables with data in stored dump `dump` (read, decrypted with
// `keys`, and its zstd undone, as a restore reads it).
absl::StatusOr<std::vector<DumpTable>> TablesInDump(ArtifactStore& store,
                                                    const crypto::KeyRing& keys,
                                                    const v1::Artifact& dump);

struct TableCount {
  DumpTable table;
  int64_t rows = -1;  // -1: the table is missing or could not be read
  std::string error;
};

// Counts the rows of each of `tables` in database `dbname` on `db`'s
// server.
absl::StatusOr<std::vector<TableCount>> CountRows(
    const v1::Database& db, const std::string& dbname,
    const std::vector<DumpTable>& tables);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_DRILLS_DUMP_TABLES_H_
