// What a hold on a deployment lets through, how --release-hold finds it,
// and what a restarted scheduler makes of holds left running.
#include "scheduler/runs/deployment_holds.h"

#include <gtest/gtest.h>

#include "tests/support/memory_catalog.h"

namespace dxbackup::scheduler {
namespace {

v1::RestoreRequest Request(const std::string& set_id) {
  v1::RestoreRequest r;
  r.set_set_id(set_id);
  return r;
}

v1::DeploymentHold Waiting(const std::string& set_id, const std::string& ns,
                           const std::string& release,
                           const std::string& restore_id) {
  return WaitingHold(Request(set_id), restore_id, ns, release,
                     "not run: DX stays stopped until the external backup is "
                     "restored by hand; then run `dxbackup restore " +
                         set_id + " --post-hooks-only`",
                     1764633600);
}

TEST(DeploymentHoldsTest, AWaitingHoldLetsInItsHooksItsReleaseOrTheWholeSet) {
  const v1::DeploymentHold hold = Waiting("s1", "ns", "dx", "restore-1");
  EXPECT_NE(hold.reason().find("`dxbackup restore s1 --release-hold`"),
            std::string::npos)
      << hold.reason();
  v1::RestoreRequest hooks = Request("s1");
  hooks.set_post_hooks_only(true);
  EXPECT_TRUE(CheckRestoreIntoHeld(hold, hooks).ok());
  EXPECT_TRUE(CheckRestoreIntoHeld(hold, Request("s1")).ok()) << "a redo";
  EXPECT_TRUE(CheckRestoreIntoHeld(hold, Request("s0")).ok())
      << "another whole set, in place";
  // A part would start DX by its hooks over a database that is not back.
  v1::RestoreRequest target = Request("s1");
  target.set_target("core/profile");
  absl::Status s = CheckRestoreIntoHeld(hold, target);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("ns/dx is held by restore restore-1 of set s1 "
                             "(since 2025-12-02T00:00:00Z)"),
            std::string::npos)
      << s;
  v1::RestoreRequest paths = Request("s1");
  paths.add_paths("config/wps.properties");
  EXPECT_FALSE(CheckRestoreIntoHeld(hold, paths).ok());
  v1::RestoreRequest other_hooks = Request("s0");
  other_hooks.set_post_hooks_only(true);
  EXPECT_FALSE(CheckRestoreIntoHeld(hold, other_hooks).ok())
      << "another set's hooks do not end this hold";
}

TEST(DeploymentHoldsTest, ARunningHoldLetsNothingInAndRefusesBackups) {
  const v1::DeploymentHold hold =
      RunningHold(Request("s1"), "restore-2", "ns", "dx", 1764633600);
  EXPECT_FALSE(CheckRestoreIntoHeld(hold, Request("s1")).ok());
  absl::Status s = RefuseHeld(hold);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("while restore restore-2 of set s1"),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find("runs into it"), std::string::npos) << s;
}

TEST(DeploymentHoldsTest, ReleaseFindsTheSetsHoldNamingTheDeploymentIfNeeded) {
  testing::MemoryCatalog catalog;
  EXPECT_EQ(HoldToRelease(catalog, Request("s1")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(catalog.PutHold(Waiting("s1", "ns", "dx", "restore-1")).ok());
  auto found = HoldToRelease(catalog, Request("s1"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->restore_id(), "restore-1");
  // The same set restored into a clone, held too: which one?
  ASSERT_TRUE(
      catalog.PutHold(Waiting("s1", "ns-clone", "dx", "restore-3")).ok());
  EXPECT_NE(HoldToRelease(catalog, Request("s1"))
                .status()
                .message()
                .find("hold 2 deployments; name one with --to-namespace"),
            std::string::npos);
  v1::RestoreRequest clone = Request("s1");
  clone.set_to_namespace("ns-clone");
  clone.set_to_release("dx");
  found = HoldToRelease(catalog, clone);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->restore_id(), "restore-3");
  // A running one ends with its restore.
  ASSERT_TRUE(catalog
                  .PutHold(RunningHold(Request("s2"), "restore-4", "ns",
                                       "other", 1764633600))
                  .ok());
  EXPECT_NE(HoldToRelease(catalog, Request("s2"))
                .status()
                .message()
                .find("its hold ends with it"),
            std::string::npos);
}

TEST(DeploymentHoldsTest, HoldsLeftRunningByAStoppedSchedulerWait) {
  testing::MemoryCatalog catalog;
  ASSERT_TRUE(catalog
                  .PutHold(RunningHold(Request("s1"), "restore-1", "ns", "dx",
                                       1764633600))
                  .ok());
  ASSERT_TRUE(catalog.PutHold(Waiting("s2", "ns", "b", "restore-2")).ok());
  auto stopped = StopRunningHolds(catalog);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 1);
  auto hold = HoldOn(catalog, "ns", "dx");
  ASSERT_TRUE(hold.ok() && hold->has_value());
  EXPECT_FALSE((*hold)->running());
  EXPECT_NE((*hold)->reason().find("the scheduler stopped while it ran"),
            std::string::npos)
      << (*hold)->reason();
  EXPECT_NE((*hold)->reason().find("`dxbackup restore s1 --to-namespace ns "
                                   "--to-release dx --release-hold`"),
            std::string::npos)
      << (*hold)->reason();
  // Now it waits: its release goes through.
  EXPECT_TRUE(HoldToRelease(catalog, Request("s1")).ok());
  EXPECT_EQ(*StopRunningHolds(catalog), 0);
}

}  // namespace
}  // namespace dxbackup::scheduler
