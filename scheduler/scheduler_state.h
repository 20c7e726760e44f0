// SchedulerState is the set of long-lived parts the scheduler's runners and
// services share. It owns nothing: main (or a test) builds the parts and
// keeps them alive longer than anything holding this. `clock` is how parts
// read the time; `time` how they wait for it (TimeOf(): the machine's when
// unset). SchedulerServer sets both to the one TimeSource it is given.
#ifndef DXBACKUP_SCHEDULER_SCHEDULER_STATE_H_
#define DXBACKUP_SCHEDULER_SCHEDULER_STATE_H_

#include "common/clock.h"
#include "common/time_source.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/store/artifact_store.h"
#include "scheduler/catalog/catalog.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/metrics/metrics.h"
#include "scheduler/access/token_auth.h"

namespace dxbackup::scheduler {

struct SchedulerState {
  const v1::SchedulerConfig* config;
  Catalog* catalog;
  ArtifactStore* store;
  AgentRegistry* registry;
  JobBoard* board;
  const common::Clock* clock;
  TokenAuth* auth = nullptr;            // nullptr: no token checks
  SchedulerMetrics* metrics = nullptr;  // nullptr: nothing counted
  const common::TimeSource* time = nullptr;  // nullptr: common::RealTime()
};

// How the parts of `state` wait: its TimeSource, or the machine's.
inline const common::TimeSource& TimeOf(const SchedulerState& state) {
  return state.time != nullptr ? *state.time : common::RealTime();
}

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

#endif  // DXBACKUP_SCHEDULER_SCHEDULER_STATE_H_
