#include "scheduler/runs/set_levels.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler {
namespace {

bool Sound(const v1::BackupSet& set) {
  return set.status() == v1::SET_COMPLETE &&
         set.verification().result() != v1::Verification::CORRUPT;
}

}  // namespace

bool IsFull(const v1::BackupSet& set) {
  return set.level() == v1::FULL || set.level() == v1::LEVEL_UNSPECIFIED;
}

LevelPlan PlanLevel(const v1::CaptureOptions& options,
                    const std::vector<v1::BackupSet>& history) {
  LevelPlan full;
  const v1::BackupLevel wanted = options.level();
  if (wanted != v1::INCREMENTAL && wanted != v1::DIFFERENTIAL) return full;
  const int full_every =
      options.full_every() > 0 ? options.full_every() : kDefaultFullEvery;
  const int max_chain =
      options.max_chain() > 0 ? options.max_chain() : kDefaultMaxChain;

  std::vector<const v1::BackupSet*> sound;  // newest first
  std::map<std::string, const v1::BackupSet*> by_id;
  for (const v1::BackupSet& s : history) {
    by_id[s.id()] = &s;
    if (Sound(s)) sound.push_back(&s);
  }
  // Newest first; sets of the same second keep the catalog's order.
  std::stable_sort(sound.begin(), sound.end(),
                   [](const auto* a, const auto* b) {
                     return a->started_unix() > b->started_unix();
                   });
  auto last_full = std::find_if(sound.begin(), sound.end(),
                                [](const auto* s) { return IsFull(*s); });
  if (last_full == sound.end()) {
    full.why = "no complete full set to build on yet";
    return full;
  }
  const int since_full = static_cast<int>(last_full - sound.begin());
  if (since_full >= full_every) {
    full.why = absl::StrCat(
        since_full, " sets since the last full (full_every ", full_every, ")");
    return full;
  }
  const v1::BackupSet* base =
      wanted == v1::DIFFERENTIAL ? *last_full : sound[0];
  // The chain a restore of the new set would apply: base, its base, ...
  int chain = 1;  // the new set
  for (const v1::BackupSet* link = base; link != nullptr;) {
    if (!Sound(*link)) {
      full.why = absl::StrCat("set ", link->id(), " of the chain is not sound");
      return full;
    }
    ++chain;
    if (IsFull(*link)) break;
    auto next = by_id.find(link->base_set_id());
    if (next == by_id.end()) {
      full.why = absl::StrCat("base ", link->base_set_id(), " of set ",
                              link->id(), " is gone");
      return full;
    }
    link = next->second;
  }
  if (chain > max_chain) {
    full.why = absl::StrCat("the chain would reach ", chain,
                            " artifacts (max_chain ", max_chain, ")");
    return full;
  }
  return LevelPlan{wanted, base->id(), ""};
}

}  // namespace dxbackup::scheduler
