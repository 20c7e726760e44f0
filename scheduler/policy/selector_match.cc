#include "scheduler/policy/selector_match.h"

#include <fnmatch.h>

namespace dxbackup::scheduler {

bool GlobMatches(const std::string& pattern, const std::string& value) {
  return pattern.empty() || fnmatch(pattern.c_str(), value.c_str(), 0) == 0;
}

bool SelectsDeployment(const v1::Selector& selector,
                       const std::string& namespace_,
                       const std::string& release) {
  bool namespace_matches = false;
  for (const std::string& pattern : selector.namespaces()) {
    namespace_matches = namespace_matches || GlobMatches(pattern, namespace_);
  }
  return namespace_matches && GlobMatches(selector.release(), release);
}

}  // namespace dxbackup::scheduler
