#include "scheduler/runs/set_levels.h"

#include <gtest/gtest.h>

namespace dxbackup::scheduler {
namespace {

v1::BackupSet Set(const std::string& id, int64_t t, v1::BackupLevel level,
                  const std::string& base = "",
                  v1::SetStatus status = v1::SET_COMPLETE) {
  v1::BackupSet s;
  s.set_id(id);
  s.set_started_unix(t);
  s.set_level(level);
  s.set_base_set_id(base);
  s.set_status(status);
  return s;
}

v1::CaptureOptions Wants(v1::BackupLevel level, int full_every = 0,
                         int max_chain = 0) {
  v1::CaptureOptions o;
  o.set_level(level);
  o.set_full_every(full_every);
  o.set_max_chain(max_chain);
  return o;
}

TEST(PlanLevelTest, FullUnlessAskedAndUntilThereIsAFull) {
  EXPECT_EQ(PlanLevel({}, {Set("f", 1, v1::FULL)}).level, v1::FULL);
  LevelPlan first = PlanLevel(Wants(v1::INCREMENTAL), {});
  EXPECT_EQ(first.level, v1::FULL);
  EXPECT_EQ(first.why, "no complete full set to build on yet");
  LevelPlan failed = PlanLevel(Wants(v1::INCREMENTAL),
                               {Set("f", 1, v1::FULL, "", v1::SET_FAILED)});
  EXPECT_EQ(failed.level, v1::FULL);
}

TEST(PlanLevelTest, IncrementalBuildsOnTheNewestSoundSet) {
  std::vector<v1::BackupSet> history = {
      Set("f", 1, v1::FULL), Set("i1", 2, v1::INCREMENTAL, "f"),
      Set("i2", 3, v1::INCREMENTAL, "i1"),
      Set("bad", 4, v1::INCREMENTAL, "i2", v1::SET_FAILED)};
  LevelPlan plan = PlanLevel(Wants(v1::INCREMENTAL), history);
  EXPECT_EQ(plan.level, v1::INCREMENTAL);
  EXPECT_EQ(plan.base_set_id, "i2");
  LevelPlan diff = PlanLevel(Wants(v1::DIFFERENTIAL), history);
  EXPECT_EQ(diff.level, v1::DIFFERENTIAL);
  EXPECT_EQ(diff.base_set_id, "f");
}

TEST(PlanLevelTest, AFullAfterFullEverySetsOrAtMaxChain) {
  std::vector<v1::BackupSet> history = {Set("f", 1, v1::FULL),
                                        Set("i1", 2, v1::INCREMENTAL, "f"),
                                        Set("i2", 3, v1::INCREMENTAL, "i1")};
  EXPECT_EQ(PlanLevel(Wants(v1::INCREMENTAL, 3), history).level,
            v1::INCREMENTAL);
  LevelPlan every = PlanLevel(Wants(v1::INCREMENTAL, 2), history);
  EXPECT_EQ(every.level, v1::FULL);
  EXPECT_EQ(every.why, "2 sets since the last full (full_every 2)");
  EXPECT_EQ(PlanLevel(Wants(v1::INCREMENTAL, 0, 4), history).level,
            v1::INCREMENTAL);
  LevelPlan chain = PlanLevel(Wants(v1::INCREMENTAL, 0, 3), history);
  EXPECT_EQ(chain.level, v1::FULL);
  EXPECT_EQ(chain.why, "the chain would reach 4 artifacts (max_chain 3)");
  // A differential's chain is always two long.
  EXPECT_EQ(PlanLevel(Wants(v1::DIFFERENTIAL, 0, 2), history).level,
            v1::DIFFERENTIAL);
}

TEST(PlanLevelTest, ABrokenOrCorruptChainGivesAFull) {
  v1::BackupSet corrupt = Set("i1", 2, v1::INCREMENTAL, "f");
  std::vector<v1::BackupSet> history = {Set("f", 1, v1::FULL), corrupt,
                                        Set("i2", 3, v1::INCREMENTAL, "i1")};
  history[1].mutable_verification()->set_result(v1::Verification::CORRUPT);
  LevelPlan plan = PlanLevel(Wants(v1::INCREMENTAL), history);
  EXPECT_EQ(plan.level, v1::FULL);
  EXPECT_EQ(plan.why, "set i1 of the chain is not sound");
  LevelPlan gone = PlanLevel(
      Wants(v1::INCREMENTAL),
      {Set("f", 1, v1::FULL), Set("i2", 3, v1::INCREMENTAL, "pruned")});
  EXPECT_EQ(gone.level, v1::FULL);
  EXPECT_EQ(gone.why, "base pruned of set i2 is gone");
}

}  // namespace
}  // namespace dxbackup::scheduler
