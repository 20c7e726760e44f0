// dxbackup-catalog-bench: fills a catalog with many sets and file rows, then
// times the queries an operator runs: find, files and prune --dry-run.
//
//   dxbackup-catalog-bench [--sets 10000] [--files-per-set 100] [--dir D]
//
// Prints a table with the median of several runs of each query and exits 1
// if any exceeds its budget (100 ms).
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
#include "common/clock.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/store/directory_store.h"
#include "tools/bench/bench_util.h"

namespace po = boost::program_options;
using namespace dxbackup;
using namespace dxbackup::scheduler;

namespace {

constexpr double kBudgetMs = 100;
constexpr int kRuns = 7;

double MedianMs(const std::function<void()>& run) {
  return bench::MedianMs(kRuns, run);
}

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::cerr << "catalog-bench: " << s.message() << "\n";
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int sets = 10000, files_per_set = 100;
  std::string dir;
  po::options_description desc("dxbackup-catalog-bench");
  desc.add_options()("sets", po::value(&sets)->default_value(sets), "sets")(
      "files-per-set", po::value(&files_per_set)->default_value(files_per_set),
      "file rows per set")("dir", po::value(&dir), "work directory (temp)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);
  if (dir.empty()) {
    char pattern[] = "/tmp/dxbackup-catalog-bench-XXXXXX";
    dir = mkdtemp(pattern);
  }

  auto opened = SqliteCatalog::Open(dir + "/catalog.db");
  Check(opened.status());
  SqliteCatalog& catalog = **opened;
  DirectoryStore store(dir + "/store");
  Check(store.Init());

  // 10 namespaces x 10 releases, hourly sets of one policy.
  const auto fill_start = std::chrono::steady_clock::now();
  const int groups = 100;
  std::string find_set_id;
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
    if (i == sets / 2) find_set_id = set.id();
  }
  const double fill_s = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - fill_start)
                            .count();

  v1::SchedulerConfig config;
  v1::Policy* policy = config.add_policies();
  policy->set_name("nightly");
  policy->mutable_retention()->set_keep_daily(7);
  policy->mutable_retention()->set_keep_weekly(4);
  policy->mutable_retention()->set_keep_monthly(6);
  common::SystemClock clock;
  Pruner pruner(config, &catalog, &store, &clock);

  struct Row {
    std::string what;
    double ms;
    size_t rows;
  };
  std::vector<Row> rows;
  auto find = [&](const std::string& pattern) {
    v1::FindFilesRequest request;
    request.set_pattern(pattern);
    size_t n = 0;
    const double ms = MedianMs([&] {
      auto found = catalog.FindFiles(request);
      Check(found.status());
      n = static_cast<size_t>(found->files_size());
    });
    rows.push_back({"find " + pattern + " (first 1000)", ms, n});
  };
  auto files = [&](const std::string& prefix) {
    v1::ListFilesRequest request;
    request.set_set_id(find_set_id);
    request.set_path_prefix(prefix);
    size_t n = 0;
    const double ms = MedianMs([&] {
      n = 0;
      Check(catalog.ForEachFile(request, [&](const v1::IndexedFile&) {
        ++n;
        return true;
      }));
    });
    rows.push_back(
        {"files SET" + (prefix.empty() ? "" : " --path " + prefix), ms, n});
  };
  find("wps.properties");
  find("PortalServer/wps.properties");
  find("config/cells/c3/f13.xml");
  find("wps.*");
  files("");
  files("config/cells/c3");
  size_t decisions = 0;
  const double prune_ms = MedianMs([&] {
    auto pruned = pruner.Prune(/*dry_run=*/true);
    Check(pruned.status());
    decisions = static_cast<size_t>(pruned->decisions_size());
  });
  rows.push_back({"prune --dry-run (every set)", prune_ms, decisions});

  std::printf("catalog: %d sets, %d file rows (filled in %.1f s)\n\n", sets,
              sets * files_per_set, fill_s);
  std::printf("| %-46s | %10s | %8s | %s |\n", "query", "median ms", "rows",
              "within 100 ms");
  std::printf("|%s|%s|%s|%s|\n", std::string(48, '-').c_str(),
              std::string(12, '-').c_str(), std::string(10, '-').c_str(),
              std::string(15, '-').c_str());
  bool over = false;
  for (const Row& r : rows) {
    over = over || r.ms > kBudgetMs;
    std::printf("| %-46s | %10.2f | %8zu | %s |\n", r.what.c_str(), r.ms,
                r.rows, r.ms > kBudgetMs ? "NO" : "yes");
  }
  if (!vm.count("dir")) std::filesystem::remove_all(dir);
  return over ? 1 : 0;
}
