// FleetView: what the dashboard's fleet page shows of each deployment,
// worked out from the catalog's summaries (SetCatalog::DeploymentSummaries)
// and the config's policies, against a time. Pure functions.
//
// Health against the deployment's RPO (the smallest rpo_seconds of the
// policies covering it), by the age of its newest complete set, as
// StaleTask counts it:
//   red    older than the RPO, or no complete set at all;
//   amber  older than 3/4 of the RPO, or its newest set failed;
//   green  otherwise;
//   none   no policy covering it states an RPO (the age is still shown).
#ifndef DXBACKUP_SCHEDULER_WEB_FLEET_VIEW_H_
#define DXBACKUP_SCHEDULER_WEB_FLEET_VIEW_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/set_catalog.h"

namespace dxbackup::scheduler::web {

enum class Health { kRed, kAmber, kGreen, kNone };  // worst first
const char* HealthName(Health health);  // "red", "amber", "green", "none"

struct FleetRow {
  SetCatalog::DeploymentSummary summary;  // namespace_ and release always
  std::vector<std::string> policies;      // covering it, by config order
  int64_t rpo_seconds = 0;                // 0: none stated
  int64_t rto_seconds = 0;
  Health health = Health::kNone;
  int64_t age_seconds = -1;    // of the newest complete set; -1: none
  bool newest_failed = false;  // its newest set failed
  std::string why;             // one line for the health ("2h past its RPO")
};

// One row per deployment of `summaries` and of `known` (deployments with
// no set yet: configured, or with agents), sorted worst health first, then
// oldest newest-complete-set first, then by name.
std::vector<FleetRow> BuildFleet(
    const std::vector<SetCatalog::DeploymentSummary>& summaries,
    const std::vector<std::pair<std::string, std::string>>& known,
    const v1::SchedulerConfig& config, int64_t now_unix);

// The policies covering namespace/release, by config order.
std::vector<const v1::Policy*> PoliciesOf(const v1::SchedulerConfig& config,
                                          const std::string& namespace_,
                                          const std::string& release);

}  // namespace dxbackup::scheduler::web

#endif  // DXBACKUP_SCHEDULER_WEB_FLEET_VIEW_H_
