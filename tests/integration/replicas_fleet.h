// The fleet both replica kill tests run (replicas_test.cc,
// active_replicas_test.cc), and what must hold of its sets however many
// schedulers ran them: one set per deployment per slot, never two of a
// deployment at once, and the limits at each set's start. Each check is a
// gtest expectation naming the set that breaks it.
#ifndef DXBACKUP_TESTS_INTEGRATION_REPLICAS_FLEET_H_
#define DXBACKUP_TESTS_INTEGRATION_REPLICAS_FLEET_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dxbackup/v1/types.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::testing {

// Five namespaces of two releases each, a core and a DAM agent each; at
// most three sets at once, one per namespace.
inline constexpr int kFleetNamespaces = 5;
inline constexpr int kFleetReleases = 2;
inline constexpr int kFleetMaxSets = 3;

inline std::string FleetDeployment(int ns, int release) {
  return "fleet-" + std::to_string(ns) + "/r" + std::to_string(release);
}

// The fleet's config, with `store` (YAML, "" for the data directory's):
// the limits, 1 s heartbeats, the catalog in `pg`, fleet-0/r0's core
// pre-hook that holds its sets until `gate` exists and a post-hook that
// appends to `post_hook_log`, and a policy whose slots come every minute.
inline std::string FleetConfig(const PgTestServer& pg, const std::string& store,
                               const std::string& gate,
                               const std::string& post_hook_log) {
  return R"(
limits: {max_sets: 3, max_sets_per_namespace: 1}
prune_schedule: "0 0 1 1 *"
heartbeat_seconds: 1
offline_after_heartbeats: 20
)" + store +
         R"(
catalog:
  postgres:
    host: )" +
         pg.dir() + R"(
    user: dxadmin
    dbname: dxcatalog
    password_file: )" +
         pg.password_file() + R"(
deployments:
  - namespace: fleet-0
    release: r0
    hooks:
      - {name: stop, component: core, phase: pre, shell: true, command: ["while [ ! -e )" +
         gate + R"( ]; do sleep 0.1; done"]}
      - {name: start, component: core, phase: post, shell: true, command: ["echo started >> )" +
         post_hook_log + R"("]}
policies:
  - name: minutely
    selector: {namespaces: ["fleet-*"]}
    schedule: "* * * * *"
    retention: {keep_last: 1}
)";
}

// The fleet's 20 agents, started (not waited for), dialling `scheduler`,
// each with a volume of three files under `dir`/volumes.
struct FleetAgents {
  std::vector<std::unique_ptr<AgentProcess>> all;
  std::map<std::string, std::vector<AgentProcess*>> of;  // by deployment
  AgentProcess* held = nullptr;  // fleet-0/r0's core agent (its hooks)
};
inline FleetAgents StartFleetAgents(const std::string& dir,
                                    const std::string& scheduler) {
  FleetAgents agents;
  for (int ns = 0; ns < kFleetNamespaces; ++ns) {
    for (int r = 0; r < kFleetReleases; ++r) {
      for (const std::string component : {"core", "dam"}) {
        const std::string pod = "fleet-" + std::to_string(ns) + "-r" +
                                std::to_string(r) + "-" + component;
        const std::string volume = dir + "/volumes/" + pod;
        for (int i = 0; i < 3; ++i) {
          WriteFile(volume + "/file" + std::to_string(i),
                    pod + std::string(1000 * (i + 1), 'x'));
        }
        AgentOptions options = AgentOf(
            scheduler, "fleet-" + std::to_string(ns), "r" + std::to_string(r),
            pod, component, {"data=" + volume}, dir + "/" + pod + ".log");
        options.wait = false;
        agents.all.push_back(std::make_unique<AgentProcess>(options));
        agents.of[FleetDeployment(ns, r)].push_back(agents.all.back().get());
        if (ns == 0 && r == 0 && component == "core") {
          agents.held = agents.all.back().get();
        }
      }
    }
  }
  return agents;
}

// How many times `output` contains `needle`.
inline int CountOf(const std::string& output, const std::string& needle) {
  int n = 0;
  for (size_t at = output.find(needle); at != std::string::npos;
       at = output.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// `by_deployment`: each deployment's sets of a policy whose slots come
// every minute. None ran twice in one slot, and none overlaps the one
// before it.
inline void ExpectOneSetPerSlot(
    std::map<std::string, std::vector<v1::BackupSet>> by_deployment) {
  for (auto& [deployment, list] : by_deployment) {
    std::map<int64_t, int> per_minute;
    for (const v1::BackupSet& set : list) {
      EXPECT_EQ(++per_minute[set.started_unix() / 60], 1)
          << deployment << " ran twice in one slot: " << set.id();
    }
    std::sort(list.begin(), list.end(), [](const auto& x, const auto& y) {
      return x.started_unix() < y.started_unix();
    });
    for (size_t i = 1; i < list.size(); ++i) {
      EXPECT_GE(list[i].started_unix(), list[i - 1].finished_unix())
          << deployment << ": " << list[i].id() << " overlaps "
          << list[i - 1].id();
    }
  }
}

// At each set's start, at most `max_sets` of `all` ran, and at most
// `max_per_namespace` in its namespace.
inline void ExpectLimitsHeld(const std::vector<v1::BackupSet>& all,
                             int max_sets, int max_per_namespace) {
  auto running_at = [&all](int64_t t, const std::string* ns) {
    int n = 0;
    for (const v1::BackupSet& set : all) {
      if (ns != nullptr && set.namespace_() != *ns) continue;
      if (set.started_unix() <= t && t < set.finished_unix()) ++n;
    }
    return n;
  };
  for (const v1::BackupSet& set : all) {
    EXPECT_LE(running_at(set.started_unix(), nullptr), max_sets) << set.id();
    EXPECT_LE(running_at(set.started_unix(), &set.namespace_()),
              max_per_namespace)
        << set.id();
  }
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_INTEGRATION_REPLICAS_FLEET_H_
