// PlanLevel chooses what a new backup set captures: a full, or only what
// changed since a base (incremental: the newest complete set; differential:
// the newest complete full). It falls back to a full when there is no
// sound base, when `full_every` sets followed the last full, or when the
// chain a restore would apply would pass `max_chain` artifacts. Every set
// of a chain must be complete and not found corrupt.
#ifndef DXBACKUP_SCHEDULER_RUNS_SET_LEVELS_H_
#define DXBACKUP_SCHEDULER_RUNS_SET_LEVELS_H_

#include <string>
#include <vector>

#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

constexpr int kDefaultFullEvery = 6;
constexpr int kDefaultMaxChain = 14;

struct LevelPlan {
  v1::BackupLevel level = v1::FULL;
  std::string base_set_id;  // "" for a full
  std::string why;          // why a full was taken instead, if it was
};

// `history`: the earlier sets of the same deployment and policy, newest
// first as Catalog::ListSets gives them.
LevelPlan PlanLevel(const v1::CaptureOptions& options,
                    const std::vector<v1::BackupSet>& history);

// True for a set taken whole (level full or unrecorded).
bool IsFull(const v1::BackupSet& set);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_SET_LEVELS_H_
