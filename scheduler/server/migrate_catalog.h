// `dxbackup-scheduler migrate-catalog --from-sqlite PATH --config FILE`:
// copies the SQLite catalog at PATH into the PostgreSQL that the config's
// `catalog.postgres` names, and prints each table's row count and digest
// on both sides (CopySqliteCatalog); with --verify-only, only compares
// them (VerifyCatalogCopy). Exit 0 when every table matches, 1
// when the copy failed or a table differs, 2 for bad flags or config.
#ifndef DXBACKUP_SCHEDULER_SERVER_MIGRATE_CATALOG_H_
#define DXBACKUP_SCHEDULER_SERVER_MIGRATE_CATALOG_H_

namespace dxbackup::scheduler {

// argv[0] is "migrate-catalog".
int MigrateCatalogMain(int argc, char** argv);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SERVER_MIGRATE_CATALOG_H_
