// dxbackup-catalog-bench: fills a catalog with many sets and file rows, then
// times the queries an operator runs: find, files and prune --dry-run.
//
//   dxbackup-catalog-bench [--sets 10000] [--files-per-set 100] [--dir D]
//                          [--postgres] [--no-analyze]
//
// Prints a table with the median of several runs of each query and exits 1
// if any exceeds its budget (100 ms).
//
// With --postgres, the filled SQLite catalog is also copied into a private
// PostgreSQL (tools/pg-test-server.sh, in the work directory) as
// `dxbackup-scheduler migrate-catalog` copies it (CopySqliteCatalog, timed;
// every table must come back verified), ANALYZEd (as autovacuum would
// within its first minute; --no-analyze measures before), and the same
// queries are timed on PostgresCatalog, the engines taking turns run by
// run. The table then shows both engines and PostgreSQL/SQLite per query;
// the bench exits 1 as well if a ratio exceeds 2 (*: unless both engines
// answer within 1 ms, where it measures a round trip) or the engines return
// different row counts, and prints each engine's bytes per million file
// rows. The server is stopped at the end, on failure too (a bench killed
// by a signal leaves it running: stop it with tools/pg-test-server.sh stop
// DIR/pg).
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "scheduler/catalog/catalog_copy.h"
#include "scheduler/catalog/postgres_catalog.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/store/directory_store.h"
#include "tools/bench/bench_pg.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/sqlite_bytes.h"

namespace po = boost::program_options;
using namespace dxbackup;
using namespace dxbackup::scheduler;

namespace {

constexpr double kBudgetMs = 100;
constexpr double kMaxRatio = 2;  // PostgreSQL's time over SQLite's ...
// ... unless both are under this: then the ratio measures a client/server
// round trip against an in-process call, not the engines.
constexpr double kRoundTripScaleMs = 1;
constexpr int kRuns = 7;
constexpr double kPerMillion = 1e6;

// The server Check stops before exiting; set while one runs.
bench::BenchPostgres* running_server = nullptr;

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::cerr << "catalog-bench: " << s.message() << "\n";
    if (running_server != nullptr) running_server->Stop().IgnoreError();
    std::exit(2);
  }
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// Fills `catalog` with `sets` hourly sets of one policy over 100
// deployments (10 namespaces x 10 releases), each with `files_per_set`
// file rows and one artifact. Returns the id of the set in the middle,
// whose files the bench lists.
std::string Fill(SqliteCatalog& catalog, int sets, int files_per_set) {
  const int groups = 100;
  std::string middle_set_id;
  for (int i = 0; i < sets; ++i) {
    const int group = i % groups;
    v1::BackupSet set;
    set.set_id(absl::StrCat("set-", i));
    set.set_namespace_(absl::StrCat("ns-", group / 10));
    set.set_release(absl::StrCat("r", group % 10));
    set.set_policy("nightly");
    set.set_status(i % 50 == 7 ? v1::SET_FAILED : v1::SET_COMPLETE);
    set.set_started_unix(1700000000 + static_cast<int64_t>(i / groups) * 3600);
    Check(catalog.CreateSet(set));
    google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
    for (int f = 0; f < files_per_set - 1; ++f) {
      v1::FileEntry* e = entries.Add();
      e->set_path(absl::StrCat("config/cells/c", f % 10, "/f", f, ".xml"));
      e->set_type("file");
      e->set_size(1000 + f);
      e->set_mtime_unix(1700000000);
    }
    v1::FileEntry* props = entries.Add();
    props->set_path("PortalServer/wps.properties");
    props->set_type("file");
    props->set_size(48);
    Check(catalog.AddFiles(set.id(), "core/profile", entries));
    v1::Artifact a;
    a.set_set_id(set.id());
    a.set_target("core/profile");
    a.set_path(ArtifactStore::RelativePath(set.namespace_(), set.release(),
                                           set.id(), "core-profile.tar.zst"));
    Check(catalog.AddArtifact(a));
    if (i == sets / 2) middle_set_id = set.id();
  }
  return middle_set_id;
}

// The policy the filled sets were taken by, with the retention prune
// --dry-run decides by.
v1::SchedulerConfig PruneConfig() {
  v1::SchedulerConfig config;
  v1::Policy* policy = config.add_policies();
  policy->set_name("nightly");
  policy->mutable_retention()->set_keep_daily(7);
  policy->mutable_retention()->set_keep_weekly(4);
  policy->mutable_retention()->set_keep_monthly(6);
  return config;
}

// One operator query: its name in the table, and a call that runs it once
// and returns how many rows it gave.
struct Query {
  std::string what;
  std::function<size_t()> run;
};

// A query's median time on one engine.
struct Timed {
  std::string what;
  double ms = 0;
  size_t rows = 0;
};

Query Find(Catalog& catalog, const std::string& pattern) {
  return {"find " + pattern + " (first 1000)", [&catalog, pattern] {
            v1::FindFilesRequest request;
            request.set_pattern(pattern);
            auto found = catalog.FindFiles(request);
            Check(found.status());
            return static_cast<size_t>(found->files_size());
          }};
}

Query Files(Catalog& catalog, const std::string& set_id,
            const std::string& prefix) {
  return {"files SET" + (prefix.empty() ? "" : " --path " + prefix),
          [&catalog, set_id, prefix] {
            v1::ListFilesRequest request;
            request.set_set_id(set_id);
            request.set_path_prefix(prefix);
            size_t n = 0;
            Check(catalog.ForEachFile(request, [&](const v1::IndexedFile&) {
              ++n;
              return true;
            }));
            return n;
          }};
}

Query PruneDryRun(Pruner& pruner) {
  return {"prune --dry-run (every set)", [&pruner] {
            auto pruned = pruner.Prune(/*dry_run=*/true);
            Check(pruned.status());
            return static_cast<size_t>(pruned->decisions_size());
          }};
}

// One engine under test: its catalog, and retention's pruner over it (which
// points at the members before it: not copyable).
struct Engine {
  Engine(Catalog& c, ArtifactStore& store)
      : catalog(c), pruner(config, &c, &store, &clock) {}
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  Catalog& catalog;
  const v1::SchedulerConfig config = PruneConfig();
  common::SystemClock clock;
  Pruner pruner;
};

// find, files and prune --dry-run on `engine`, in the same order on every
// engine. `set_id`: the set listed.
std::vector<Query> QueriesOn(Engine& engine, const std::string& set_id) {
  return {
      Find(engine.catalog, "wps.properties"),
      Find(engine.catalog, "PortalServer/wps.properties"),
      Find(engine.catalog, "config/cells/c3/f13.xml"),
      Find(engine.catalog, "wps.*"),
      Files(engine.catalog, set_id, ""),
      Files(engine.catalog, set_id, "config/cells/c3"),
      PruneDryRun(engine.pruner),
  };
}

// The wall time of one call of `run`, in milliseconds.
double OnceMs(const std::function<void()>& run) {
  return bench::MedianMs(1, run);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Each query's median over kRuns on each of `engines` (their QueriesOn),
// the engines taking turns run by run so that a load that comes and goes
// on the machine weighs on all alike. Returns one list per engine.
std::vector<std::vector<Timed>> TimeQueries(const std::vector<Engine*>& engines,
                                            const std::string& set_id) {
  std::vector<std::vector<Query>> queries;
  for (Engine* e : engines) queries.push_back(QueriesOn(*e, set_id));
  std::vector<std::vector<Timed>> timed(engines.size());
  for (size_t q = 0; q < queries[0].size(); ++q) {
    std::vector<std::vector<double>> ms(engines.size());
    std::vector<size_t> rows(engines.size());
    for (int run = 0; run < kRuns; ++run) {
      for (size_t e = 0; e < engines.size(); ++e) {
        ms[e].push_back(OnceMs([&] { rows[e] = queries[e][q].run(); }));
      }
    }
    for (size_t e = 0; e < engines.size(); ++e) {
      timed[e].push_back({queries[e][q].what, Median(ms[e]), rows[e]});
    }
  }
  return timed;
}

std::string Dashes(int n) { return std::string(static_cast<size_t>(n), '-'); }

// The table of one engine's times; true when one is over the budget.
bool PrintSqliteOnly(const std::vector<Timed>& rows) {
  std::printf("| %-46s | %10s | %8s | %s |\n", "query", "median ms", "rows",
              "within 100 ms");
  std::printf("|%s|%s|%s|%s|\n", Dashes(48).c_str(), Dashes(12).c_str(),
              Dashes(10).c_str(), Dashes(15).c_str());
  bool over = false;
  for (const Timed& r : rows) {
    over = over || r.ms > kBudgetMs;
    std::printf("| %-46s | %10.2f | %8zu | %s |\n", r.what.c_str(), r.ms,
                r.rows, r.ms > kBudgetMs ? "NO" : "yes");
  }
  return over;
}

// PostgreSQL's time over SQLite's.
double Ratio(const Timed& lite, const Timed& pg) {
  return pg.ms / std::max(lite.ms, 1e-3);
}

// The ratio target: at most kMaxRatio, or both engines under a
// millisecond.
bool RatioHolds(const Timed& lite, const Timed& pg) {
  return Ratio(lite, pg) <= kMaxRatio ||
         (lite.ms < kRoundTripScaleMs && pg.ms < kRoundTripScaleMs);
}

// What one query misses of the targets on either engine: the budget, the
// ratio, the same rows on both; one line each.
std::vector<std::string> MissesOf(const Timed& l, const Timed& p) {
  std::vector<std::string> misses;
  if (l.ms > kBudgetMs) {
    misses.push_back(
        absl::StrFormat("%s: SQLite %.2f ms > 100 ms", l.what, l.ms));
  }
  if (p.ms > kBudgetMs) {
    misses.push_back(
        absl::StrFormat("%s: PostgreSQL %.2f ms > 100 ms", l.what, p.ms));
  }
  if (!RatioHolds(l, p)) {
    misses.push_back(absl::StrFormat("%s: PostgreSQL/SQLite %.2fx > %.0fx",
                                     l.what, Ratio(l, p), kMaxRatio));
  }
  if (l.rows != p.rows) {
    misses.push_back(absl::StrCat(l.what, ": SQLite gave ", l.rows,
                                  " rows, PostgreSQL ", p.rows));
  }
  return misses;
}

// Both engines' times side by side (the same queries, in the same order),
// and the ratio; returns what misses a target (MissesOf).
std::vector<std::string> PrintSideBySide(const std::vector<Timed>& lite,
                                         const std::vector<Timed>& pg) {
  std::printf("| %-46s | %9s | %9s | %9s | %9s | %-13s | %-10s |\n", "query",
              "SQLite ms", "PG ms", "PG/SQLite", "rows", "within 100 ms",
              "ratio <= 2*");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", Dashes(48).c_str(),
              Dashes(11).c_str(), Dashes(11).c_str(), Dashes(11).c_str(),
              Dashes(11).c_str(), Dashes(15).c_str(), Dashes(12).c_str());
  std::vector<std::string> misses;
  for (size_t i = 0; i < lite.size(); ++i) {
    const Timed& l = lite[i];
    const Timed& p = pg[i];
    const std::string rows = l.rows == p.rows
                                 ? std::to_string(l.rows)
                                 : absl::StrCat(l.rows, "/", p.rows);
    const bool within = l.ms <= kBudgetMs && p.ms <= kBudgetMs;
    std::printf("| %-46s | %9.2f | %9.2f | %8.2fx | %9s | %-13s | %-10s |\n",
                l.what.c_str(), l.ms, p.ms, Ratio(l, p), rows.c_str(),
                within ? "yes" : "NO", RatioHolds(l, p) ? "yes" : "NO");
    for (std::string& m : MissesOf(l, p)) misses.push_back(std::move(m));
  }
  std::printf(
      "\n* or both under 1 ms: there the ratio is a client/server "
      "round trip against a call in the process\n");
  return misses;
}

// What one engine spends on disk: on the file index (the files table and
// its indexes), on the database, and on its write-ahead log; -1 when
// unknown or not the database's own (PostgreSQL's WAL is the cluster's).
struct EngineBytes {
  int64_t files = -1;
  int64_t database = -1;
  int64_t wal = -1;
};

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

// The pages of the files table and its indexes, by SQLite's dbstat
// (-1 when this SQLite was built without it).
EngineBytes SqliteBytes(const std::string& path) {
  return {bench::SqliteFilesBytes(path), FileBytes(path),
          FileBytes(path + "-wal")};
}

// pg_total_relation_size('files') (heap, TOAST and indexes) and
// pg_database_size.
EngineBytes PostgresBytes(const v1::Database& db) {
  auto rows =
      bench::BenchPostgres::Query(db,
                                  "SELECT pg_total_relation_size('files'), "
                                  "pg_database_size(current_database())");
  Check(rows.status());
  return {std::stoll(rows->at(0).at(0)), std::stoll(rows->at(0).at(1)), -1};
}

// `bytes` for `file_rows` rows, scaled to a million: "183.2 MiB (192 B)".
std::string PerMillion(int64_t bytes, int64_t file_rows) {
  if (bytes < 0 || file_rows == 0) return "n/a";
  const double per =
      static_cast<double>(bytes) * kPerMillion / static_cast<double>(file_rows);
  return absl::StrFormat("%.1f MiB (%.0f B/row)", per / (1 << 20),
                         per / kPerMillion);
}

void PrintBytesRow(const char* engine, const EngineBytes& b,
                   int64_t file_rows) {
  const int64_t with_wal = b.wal < 0 ? -1 : b.database + b.wal;
  std::printf("| %-10s | %-26s | %-26s | %-26s |\n", engine,
              PerMillion(b.files, file_rows).c_str(),
              PerMillion(b.database, file_rows).c_str(),
              PerMillion(with_wal, file_rows).c_str());
}

// Each engine's bytes per million file rows. SQLite's files are dbstat's
// pages of the table and its indexes, its database catalog.db (+ -wal);
// PostgreSQL's are pg_total_relation_size('files') and pg_database_size.
void PrintBytes(const EngineBytes& lite, const EngineBytes& pg,
                int64_t file_rows) {
  std::printf("\nbytes per 1,000,000 file rows (measured at %lld)\n\n",
              static_cast<long long>(file_rows));
  std::printf("| %-10s | %-26s | %-26s | %-26s |\n", "engine",
              "files + its indexes", "database", "database + WAL file");
  std::printf("|%s|%s|%s|%s|\n", Dashes(12).c_str(), Dashes(28).c_str(),
              Dashes(28).c_str(), Dashes(28).c_str());
  PrintBytesRow("SQLite", lite, file_rows);
  PrintBytesRow("PostgreSQL", pg, file_rows);
}

// Copies the SQLite catalog at `sqlite_path` into `db` as migrate-catalog
// does, printing each table's verification; exits 2 unless every table
// came back the same.
void Migrate(const std::string& sqlite_path, const v1::Database& db) {
  const auto start = std::chrono::steady_clock::now();
  double copied_s = 0;
  auto tables = CopySqliteCatalog(sqlite_path, db, [&](const std::string&) {
    copied_s = SecondsSince(start);  // the last table's end: then verify
  });
  const double total_s = SecondsSince(start);
  Check(tables.status());
  bool same = true;
  std::string verified;
  for (const TableDigest& t : *tables) {
    same = same && t.same();
    absl::StrAppend(&verified, verified.empty() ? "" : ", ", t.table, " ",
                    t.copied_rows, t.same() ? "" : " DIFFERS");
  }
  std::printf(
      "migrate-catalog: %.1f s (copy %.1f s, commit and verify %.1f s); "
      "%zu tables %s: %s\n",
      total_s, copied_s, total_s - copied_s, tables->size(),
      same ? "verified" : "NOT verified", verified.c_str());
  if (!same) Check(absl::DataLossError("the copy differs from the source"));
}

// ANALYZE on `db`, timed.
void Analyze(const v1::Database& db) {
  const auto start = std::chrono::steady_clock::now();
  Check(bench::BenchPostgres::Query(db, "ANALYZE").status());
  std::printf("ANALYZE: %.1f s\n", SecondsSince(start));
}

// `sqlite`, the SQLite catalog at `sqlite_path` (measured as
// `lite_bytes`), copied into a PostgreSQL of its own under `dir`, then
// both timed and printed side by side; returns what misses a target.
std::vector<std::string> ComparePostgres(const std::string& dir,
                                         SqliteCatalog& sqlite,
                                         const std::string& sqlite_path,
                                         const EngineBytes& lite_bytes,
                                         ArtifactStore& store,
                                         const std::string& set_id,
                                         bool analyze, int64_t file_rows) {
  auto server = bench::BenchPostgres::Start(
      DXBACKUP_SOURCE_DIR "/tools/pg-test-server.sh", dir + "/pg");
  Check(server.status());
  running_server = server->get();
  auto db = (*server)->CreateDatabase("catalog");
  Check(db.status());
  Migrate(sqlite_path, *db);
  if (analyze) Analyze(*db);
  const EngineBytes pg_bytes = PostgresBytes(*db);
  std::vector<std::vector<Timed>> timed;
  {
    auto pg = PostgresCatalog::Open(*db);
    Check(pg.status());
    Engine lite_engine(sqlite, store), pg_engine(**pg, store);
    timed = TimeQueries({&lite_engine, &pg_engine}, set_id);
  }
  auto round_trip = bench::BenchPostgres::RoundTripMs(*db, 101);
  Check(round_trip.status());
  std::printf("\n");
  std::vector<std::string> misses = PrintSideBySide(timed[0], timed[1]);
  std::printf(
      "\nPostgreSQL round trip (SELECT 1, Unix socket; median of 101): "
      "%.3f ms\n",
      *round_trip);
  PrintBytes(lite_bytes, pg_bytes, file_rows);
  Check((*server)->Stop());
  running_server = nullptr;
  return misses;
}

}  // namespace

int main(int argc, char** argv) {
  int sets = 10000, files_per_set = 100;
  std::string dir;
  po::options_description desc("dxbackup-catalog-bench");
  desc.add_options()("sets", po::value(&sets)->default_value(sets), "sets")(
      "files-per-set", po::value(&files_per_set)->default_value(files_per_set),
      "file rows per set")("dir", po::value(&dir), "work directory (temp)")(
      "postgres", "also copy the catalog into PostgreSQL and time it there")(
      "no-analyze", "with --postgres: time before ANALYZE");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);
  if (dir.empty()) {
    char pattern[] = "/tmp/dxbackup-catalog-bench-XXXXXX";
    dir = mkdtemp(pattern);
  }
  const std::string sqlite_path = dir + "/catalog.db";
  const int64_t file_rows = static_cast<int64_t>(sets) * files_per_set;

  auto opened = SqliteCatalog::Open(sqlite_path);
  Check(opened.status());
  SqliteCatalog& catalog = **opened;
  DirectoryStore store(dir + "/store");
  Check(store.Init());

  const auto fill_start = std::chrono::steady_clock::now();
  const std::string set_id = Fill(catalog, sets, files_per_set);
  const double fill_s = SecondsSince(fill_start);
  const EngineBytes lite_bytes = SqliteBytes(sqlite_path);

  std::printf("catalog-bench on %s; median of %d\n", bench::CpuModel().c_str(),
              kRuns);
  std::printf("catalog: %d sets, %lld file rows (filled in %.1f s)\n\n", sets,
              static_cast<long long>(file_rows), fill_s);
  bool failed = false;
  if (!vm.count("postgres")) {
    Engine engine(catalog, store);
    failed = PrintSqliteOnly(TimeQueries({&engine}, set_id)[0]);
  } else {
    const std::vector<std::string> misses =
        ComparePostgres(dir, catalog, sqlite_path, lite_bytes, store, set_id,
                        !vm.count("no-analyze"), file_rows);
    if (!misses.empty()) std::printf("\ntargets missed:\n");
    for (const std::string& m : misses) std::printf("- %s\n", m.c_str());
    failed = !misses.empty();
  }
  if (!vm.count("dir")) std::filesystem::remove_all(dir);
  return failed ? 1 : 0;
}
