// What must hold of a fleet's sets however many schedulers ran them (the
// replicas tests): one set per deployment per slot, never two of a
// deployment at once, and the limits at each set's start. Each check is a
// gtest expectation naming the set that breaks it.
#ifndef DXBACKUP_TESTS_INTEGRATION_FLEET_INVARIANTS_H_
#define DXBACKUP_TESTS_INTEGRATION_FLEET_INVARIANTS_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dxbackup/v1/types.pb.h"

namespace dxbackup::testing {

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

#endif  // DXBACKUP_TESTS_INTEGRATION_FLEET_INVARIANTS_H_
