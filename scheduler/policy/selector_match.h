// Which deployments a policy's selector covers: its namespace is one of
// the selector's namespaces (the config requires at least one) and its
// release matches the release (if given); each a name or an fnmatch glob
// ("dx-*"). The
// selector's component and agent_labels choose among a deployment's
// agents, not deployments; PolicySlots checks those. Pure functions.
#ifndef DXBACKUP_SCHEDULER_POLICY_SELECTOR_MATCH_H_
#define DXBACKUP_SCHEDULER_POLICY_SELECTOR_MATCH_H_

#include <string>

#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

// "" matches everything.
bool GlobMatches(const std::string& pattern, const std::string& value);

// The namespace matches one of the selector's namespaces (none: nothing
// matches), and the release its release glob.
bool SelectsDeployment(const v1::Selector& selector,
                       const std::string& namespace_,
                       const std::string& release);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POLICY_SELECTOR_MATCH_H_
