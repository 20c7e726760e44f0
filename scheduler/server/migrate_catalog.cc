#include "scheduler/server/migrate_catalog.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "scheduler/catalog/catalog_copy.h"
#include "scheduler/config/scheduler_config.h"

namespace dxbackup::scheduler {

namespace po = boost::program_options;

int MigrateCatalogMain(int argc, char** argv) {
  std::string from, config_path;
  bool verify_only = false;
  po::options_description desc(
      "dxbackup-scheduler migrate-catalog: copy a SQLite catalog into the "
      "PostgreSQL of the config's catalog.postgres (empty), and verify it "
      "(row counts and a SHA-256 per table). Stop the scheduler first");
  desc.add_options()("help", "show this help")(
      "from-sqlite", po::value(&from)->required(),
      "the SQLite catalog (DATA_DIR/catalog.db)")(
      "config", po::value(&config_path)->required(),
      "YAML config file whose catalog.postgres is the target")(
      "verify-only", po::bool_switch(&verify_only),
      "copy nothing: compare an earlier copy with the SQLite catalog");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "dxbackup-scheduler migrate-catalog: " << e.what() << "\n"
              << desc << "\n";
    return 2;
  }
  auto config = LoadSchedulerConfig(config_path);
  if (!config.ok()) {
    std::cerr << "dxbackup-scheduler: " << config.status().message() << "\n";
    return 2;
  }
  if (!config->catalog().has_postgres()) {
    std::cerr << "dxbackup-scheduler: " << config_path
              << " has no catalog.postgres to migrate into\n";
    return 2;
  }
  auto tables = verify_only
                    ? VerifyCatalogCopy(from, config->catalog().postgres())
                    : CopySqliteCatalog(from, config->catalog().postgres(),
                                        [](const std::string& line) {
                                          std::cout << line << std::endl;
                                        });
  if (!tables.ok()) {
    std::cerr << "dxbackup-scheduler: " << tables.status().message() << "\n";
    return 1;
  }
  bool same = true;
  std::printf("%-18s %12s %12s  %-64s  %s\n", "TABLE", "SQLITE", "POSTGRES",
              "SHA-256 (SQLITE)", "VERIFIED");
  for (const TableDigest& t : *tables) {
    std::printf("%-18s %12lld %12lld  %-64s  %s\n", t.table.c_str(),
                static_cast<long long>(t.source_rows),
                static_cast<long long>(t.copied_rows), t.source_sha256.c_str(),
                t.same() ? "yes" : ("NO: postgres " + t.copied_sha256).c_str());
    same = same && t.same();
  }
  std::cout << (same ? "catalog copied and verified"
                     : "the copy DIFFERS from the SQLite catalog")
            << std::endl;
  return same ? 0 : 1;
}

}  // namespace dxbackup::scheduler
