// A generated fleet in a scheduler's catalog, for the dashboard's browser
// test and its benchmark: `deployments` namespaces dx-t0000, dx-t0001, …
// (release "dx"), each with `sets_per_deployment` sets twelve hours apart,
// a full every fourteenth and incrementals between, about one in 37
// failed, each with a profile volume and a database member and their jobs.
//
// Against a policy with a 24 h RPO (FleetPolicyYaml), deployment i is
//   red    when i % 10 == 0  (newest complete set ended 50 h ago),
//   amber  when i % 10 == 1  (20 h ago: past 3/4 of the RPO) or
//          i % 10 == 2  (5 h ago, but a newer set failed),
//   green  otherwise        (2 to 10 h ago);
// every fifth (i % 5 == 3) has a passed drill of its newest complete set,
// and deployment 8 (and every 25th after it) a failed one instead. The
// same shape and seed give the same catalog.
//
// Rows are written in one transaction with SQL against the schema
// SqliteCatalog::Open made (the catalog's API commits and syncs each row,
// which would take minutes for 100,000 sets); the file is then opened as
// a catalog again and read back, so a schema the generator no longer fits
// fails here, not in the test that uses it.
#ifndef DXBACKUP_TESTS_SUPPORT_FLEET_FIXTURE_H_
#define DXBACKUP_TESTS_SUPPORT_FLEET_FIXTURE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace dxbackup::testing {

struct FleetShape {
  int deployments = 1000;
  int sets_per_deployment = 100;
  int64_t now_unix = 0;  // when the fleet is looked at
};

// Generates the fleet into the catalog at `catalog_path` (created, or
// added to).
absl::Status GenerateFleet(const std::string& catalog_path,
                           const FleetShape& shape);

// The namespace of deployment i ("dx-t0042").
std::string FleetNamespace(int i);

// A scheduler config's `policies:` covering the fleet with a 24 h RPO and
// a 1 h RTO, and its prune_schedule: retention that keeps every set (and
// says why) and prunes once a year, so that a scheduler looking at the
// fixture removes nothing of it.
std::string FleetPolicyYaml();

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_FLEET_FIXTURE_H_
