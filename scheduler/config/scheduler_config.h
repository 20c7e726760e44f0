// Loads and checks the scheduler's YAML config (schema: SchedulerConfig in
// proto/dxbackup/v1/config.proto). Errors name the file, the line and the
// key, and say what to change.
#ifndef DXBACKUP_SCHEDULER_CONFIG_SCHEDULER_CONFIG_H_
#define DXBACKUP_SCHEDULER_CONFIG_SCHEDULER_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

absl::StatusOr<v1::SchedulerConfig> LoadSchedulerConfig(
    const std::string& path);
// The same, from text; `source_name` names it in errors.
absl::StatusOr<v1::SchedulerConfig> ParseSchedulerConfig(
    const std::string& text, const std::string& source_name);

// agent_forget_after in seconds (a checked config's; "" is one day).
int64_t AgentForgetAfterSeconds(const v1::SchedulerConfig& config);

// The key a namespace's artifacts are encrypted for: the first whose
// namespaces match, else the default (the key without namespaces); nullptr
// when none does (stored in clear).
const v1::EncryptionKey* EncryptionKeyFor(const v1::SchedulerConfig& config,
                                          const std::string& namespace_);

// The configured deployment, or nullptr.
inline const v1::Deployment* FindDeployment(const v1::SchedulerConfig& config,
                                            const std::string& namespace_,
                                            const std::string& release) {
  for (const v1::Deployment& d : config.deployments()) {
    if (d.namespace_() == namespace_ && d.release() == release) return &d;
  }
  return nullptr;
}

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CONFIG_SCHEDULER_CONFIG_H_
