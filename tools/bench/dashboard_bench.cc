// dxbackup-dashboard-bench: the web dashboard at fleet scale. Generates a
// fleet (tests/support/fleet_fixture.h: 1,000 deployments of 100 sets by
// default) into a catalog, then times each page as the web server's
// handler renders it (catalog queries, retention's dry run, HTML and SVG;
// not the network), and the queries under them. As a peer measured in the
// same run: reading every set (ListSets with no filter), which is what a
// page that listed sets and filtered them in memory would cost.
//
//   dxbackup-dashboard-bench [--deployments 1000] [--sets-per-deployment 100]
//
// Prints a table of medians (of kRuns) and exits 1 if a page exceeds its
// budget (100 ms, the "queries within 100 ms").
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <vector>

#include "common/clock.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/store/directory_store.h"
#include "scheduler/web/dashboard.h"
#include "tests/support/fleet_fixture.h"
#include "tools/bench/bench_util.h"

namespace po = boost::program_options;
using namespace dxbackup;
using namespace dxbackup::scheduler;

namespace {

constexpr double kBudgetMs = 100;
constexpr int kRuns = 15;

double MedianMs(const std::function<void()>& run) {
  return bench::MedianMs(kRuns, run);
}

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::cerr << "dashboard-bench: " << s.message() << "\n";
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  testing::FleetShape shape;
  shape.now_unix = 1796256000;  // 2026-12-01T00:00:00Z
  po::options_description desc("dxbackup-dashboard-bench");
  desc.add_options()(
      "deployments", po::value(&shape.deployments)->default_value(1000),
      "deployments")("sets-per-deployment",
                     po::value(&shape.sets_per_deployment)->default_value(100),
                     "sets of each");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);
  char pattern[] = "/tmp/dxbackup-dashboard-bench-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  const auto fill_start = std::chrono::steady_clock::now();
  Check(testing::GenerateFleet(dir + "/catalog.db", shape));
  const double fill_s = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - fill_start)
                            .count();
  {
    std::ofstream config(dir + "/config.yaml");
    config << testing::FleetPolicyYaml();
  }
  auto config = LoadSchedulerConfig(dir + "/config.yaml");
  Check(config.status());
  auto opened = SqliteCatalog::Open(dir + "/catalog.db");
  Check(opened.status());
  SqliteCatalog& catalog = **opened;
  DirectoryStore store(dir + "/store");
  Check(store.Init());
  struct FixedClock : common::Clock {
    std::chrono::system_clock::time_point now;
    std::chrono::system_clock::time_point Now() const override { return now; }
  } clock;
  clock.now = std::chrono::system_clock::from_time_t(shape.now_unix);
  Pruner pruner(*config, &catalog, &store, &clock);
  web::LiveRuns live;
  web::DashboardParts parts;
  parts.config = &*config;
  parts.sets = &catalog;
  parts.jobs = &catalog;
  parts.clock = &clock;
  parts.pruner = &pruner;
  parts.live = &live;
  web::Dashboard dashboard(parts, /*auth=*/nullptr);

  struct Row {
    std::string what;
    double ms;
    size_t bytes;
    bool page;
  };
  std::vector<Row> rows;
  auto page = [&](const std::string& what, const std::string& path,
                  std::map<std::string, std::string> query = {}) {
    web::HttpRequest request;
    request.method = "GET";
    request.path = path;
    request.query = std::move(query);
    size_t bytes = 0;
    const double ms = MedianMs([&] {
      web::HttpResponse response = dashboard.Handle(request);
      if (response.status != 200) {
        std::cerr << "dashboard-bench: " << path << " answered "
                  << response.status << "\n";
        std::exit(2);
      }
      bytes = response.body.size();
    });
    rows.push_back({what, ms, bytes, true});
  };
  const std::string busy = testing::FleetNamespace(0);
  page("fleet, page 1", "/");
  page("fleet, last page", "/", {{"page", "10"}});
  page("fleet, filtered (q=dx-t05)", "/", {{"q", "dx-t05"}});
  page("fleet, red only", "/", {{"health", "red"}});
  page("deployment, page 1", "/d/" + busy + "/dx");
  page("deployment, page 2", "/d/" + busy + "/dx", {{"page", "2"}});
  page("set", "/s/20261101T000000Z-" + busy + "-0099");

  size_t summaries = 0;
  rows.push_back({"query: DeploymentSummaries", MedianMs([&] {
                    auto s = catalog.DeploymentSummaries("", "");
                    Check(s.status());
                    summaries = s->size();
                  }),
                  summaries, false});
  rows.push_back(
      {"query: retention dry run, one deployment", MedianMs([&] {
         Check(pruner.Explain(config->policies(0), busy, "dx").status());
       }),
       0, false});
  size_t every = 0;
  const double peer_ms = MedianMs([&] {
    auto all = catalog.ListSets({});
    Check(all.status());
    every = all->size();
  });
  rows.push_back({"peer: ListSets, every set", peer_ms, every, false});

  std::printf("%s; fleet of %d deployments x %d sets (generated in %.1f s)\n\n",
              bench::CpuModel().c_str(), shape.deployments,
              shape.sets_per_deployment, fill_s);
  std::printf("| %-42s | %9s | %9s | %8s |\n", "what", "median ms", "vs peer",
              "size");
  std::printf("|%s|%s|%s|%s|\n", std::string(44, '-').c_str(),
              std::string(11, '-').c_str(), std::string(11, '-').c_str(),
              std::string(10, '-').c_str());
  bool over = false;
  for (const Row& r : rows) {
    over = over || (r.page && r.ms > kBudgetMs);
    std::printf("| %-42s | %9.2f | %8.2fx | %8zu |\n", r.what.c_str(), r.ms,
                r.ms / peer_ms, r.bytes);
  }
  std::printf("\npages within %.0f ms: %s\n", kBudgetMs, over ? "NO" : "yes");
  std::filesystem::remove_all(dir);
  return over ? 1 : 0;
}
