#include "scheduler/web/fleet_view.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/human_units.h"
#include "scheduler/policy/selector_match.h"

namespace dxbackup::scheduler::web {
namespace {

// The smallest positive value, or 0 when none is.
int64_t SmallestTarget(int64_t current, int64_t candidate) {
  if (candidate <= 0) return current;
  return current == 0 ? candidate : std::min(current, candidate);
}

void Judge(FleetRow& row, int64_t now_unix) {
  const SetCatalog::DeploymentSummary& s = row.summary;
  if (!s.complete_id.empty()) {
    row.age_seconds = std::max<int64_t>(0, now_unix - s.complete_finished_unix);
  }
  row.newest_failed =
      !s.failed_id.empty() && s.failed_started_unix >= s.newest_started_unix;
  if (row.rpo_seconds == 0) {
    row.health = Health::kNone;
    row.why = "no RPO stated";
    return;
  }
  const std::string rpo = common::HumanDuration(row.rpo_seconds);
  if (row.age_seconds < 0) {
    row.health = Health::kRed;
    row.why = "no complete set yet (RPO " + rpo + ")";
  } else if (row.age_seconds > row.rpo_seconds) {
    row.health = Health::kRed;
    row.why =
        absl::StrCat(common::HumanDuration(row.age_seconds - row.rpo_seconds),
                     " past its RPO of ", rpo);
  } else if (row.age_seconds * 4 > row.rpo_seconds * 3) {
    row.health = Health::kAmber;
    row.why = absl::StrCat("past 3/4 of its RPO of ", rpo);
  } else if (row.newest_failed) {
    row.health = Health::kAmber;
    row.why =
        absl::StrCat("within its RPO of ", rpo, ", but the newest set failed");
  } else {
    row.health = Health::kGreen;
    row.why = absl::StrCat("within its RPO of ", rpo);
  }
}

}  // namespace

const char* HealthName(Health health) {
  switch (health) {
    case Health::kRed:
      return "red";
    case Health::kAmber:
      return "amber";
    case Health::kGreen:
      return "green";
    case Health::kNone:
      return "none";
  }
  return "none";
}

std::vector<const v1::Policy*> PoliciesOf(const v1::SchedulerConfig& config,
                                          const std::string& namespace_,
                                          const std::string& release) {
  std::vector<const v1::Policy*> out;
  for (const v1::Policy& p : config.policies()) {
    if (SelectsDeployment(p.selector(), namespace_, release)) out.push_back(&p);
  }
  return out;
}

std::vector<FleetRow> BuildFleet(
    const std::vector<SetCatalog::DeploymentSummary>& summaries,
    const std::vector<std::pair<std::string, std::string>>& known,
    const v1::SchedulerConfig& config, int64_t now_unix) {
  std::map<std::pair<std::string, std::string>, FleetRow> rows;
  for (const SetCatalog::DeploymentSummary& s : summaries) {
    rows[{s.namespace_, s.release}].summary = s;
  }
  for (const auto& [ns, release] : known) {
    FleetRow& row = rows[{ns, release}];
    row.summary.namespace_ = ns;
    row.summary.release = release;
  }
  std::vector<FleetRow> out;
  out.reserve(rows.size());
  for (auto& [key, row] : rows) {
    for (const v1::Policy* p : PoliciesOf(config, key.first, key.second)) {
      row.policies.push_back(p->name());
      row.rpo_seconds = SmallestTarget(row.rpo_seconds, p->rpo_seconds());
      row.rto_seconds = SmallestTarget(row.rto_seconds, p->rto_seconds());
    }
    Judge(row, now_unix);
    out.push_back(std::move(row));
  }
  std::stable_sort(
      out.begin(), out.end(), [](const FleetRow& a, const FleetRow& b) {
        // No complete set sorts as oldest.
        auto age = [](const FleetRow& r) {
          return r.age_seconds < 0 ? INT64_MAX : r.age_seconds;
        };
        return std::make_tuple(static_cast<int>(a.health), -age(a)) <
               std::make_tuple(static_cast<int>(b.health), -age(b));
      });
  return out;
}

}  // namespace dxbackup::scheduler::web
