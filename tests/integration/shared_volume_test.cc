// A volume several pods mount, end to end: two "core pods" (real agents)
// mount one directory, as DX's core pods share a ReadWriteMany profile
// claim and DAM's pods its upload claim. The set captures it once, as
// core/profile, while each pod's own volume stays its own; both pods'
// pre-hooks ran before the capture (each leaves a marker the archive
// holds) and both post-hooks after it (each takes its marker away); the
// set restores through one of them.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dxbackup/v1/admin.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::WriteFile;

class SharedVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shared_ = dir_ / "shared-profile";
    WriteFile(shared_ + "/PortalServer/wps.properties", "shared by both pods");
    // Each hook runs on both pods' agents; DXBACKUP_POD says which.
    WriteFile(dir_ / "scheduler.yaml",
              "deployments:\n"
              "  - namespace: dx-prod\n    release: dx\n    hooks:\n"
              "      - {name: stop, component: core, phase: pre, shell: true, "
              "command: [\"touch " +
                  shared_ +
                  "/quiesced-by-$DXBACKUP_POD\"]}\n"
                  "      - {name: start, component: core, phase: post, shell: "
                  "true, command: [\"rm " +
                  shared_ + "/quiesced-by-$DXBACKUP_POD\"]}\n");
    scheduler_ = std::make_unique<testing::SchedulerProcess>(
        testing::SchedulerIn(dir_.path()));
    ASSERT_FALSE(scheduler_->address().empty()) << scheduler_->Output();
    cli_ = std::make_unique<testing::CliClient>(scheduler_->address());
    for (const std::string pod : {"dx-core-0", "dx-core-1"}) {
      WriteFile(dir_ / (pod + "-tranlog/log"), "own to " + pod);
      agents_[pod] = std::make_unique<testing::AgentProcess>(testing::AgentOf(
          scheduler_->address(), "dx-prod", "dx", pod, "core",
          {"profile=" + shared_, "tranlog=" + dir_ / (pod + "-tranlog")},
          dir_ / (pod + ".log")));
      ASSERT_TRUE(agents_[pod]->registered()) << agents_[pod]->Output();
    }
  }

  void TearDown() override {
    for (auto& [pod, agent] : agents_) agent->Signal(SIGTERM);
    if (scheduler_) scheduler_->Signal(SIGTERM);
  }

  // The paths a stored volume archive holds, one per line, sorted.
  std::string Listing(const v1::Artifact& artifact) {
    std::string out;
    EXPECT_EQ(
        testing::RunCommand(
            {"sh", "-c",
             "tar --zstd -tf '" + (dir_ / ("data/store/" + artifact.path())) +
                 "' | grep -v '^.dxbackup' | sort"},
            &out),
        0)
        << out;
    return out;
  }

  testing::TempDir dir_;
  std::string shared_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::CliClient> cli_;
  std::map<std::string, std::unique_ptr<testing::AgentProcess>> agents_;
};

TEST_F(SharedVolumeTest, IsCapturedOnceInsideEveryMountingPodsWindow) {
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "dx", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason() << out;
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  std::map<std::string, v1::Artifact> by_target;
  for (const v1::Artifact& a : detail.artifacts()) by_target[a.target()] = a;
  ASSERT_EQ(by_target.size(), 3u) << detail.ShortDebugString();
  ASSERT_EQ(by_target.count("core/profile"), 1u) << detail.ShortDebugString();
  EXPECT_EQ(by_target.count("dx-core-0/tranlog"), 1u);
  EXPECT_EQ(by_target.count("dx-core-1/tranlog"), 1u);
  const v1::Artifact& profile = by_target["core/profile"];
  EXPECT_EQ(profile.source(),
            "dx-core-0:" + shared_ + " (mounted by dx-core-1 too)");
  // Both pods were quiesced when it was captured, and are not after.
  EXPECT_EQ(Listing(profile),
            "./\nPortalServer/\nPortalServer/wps.properties\n"
            "quiesced-by-dx-core-0\nquiesced-by-dx-core-1\n");
  EXPECT_FALSE(fs::exists(shared_ + "/quiesced-by-dx-core-0"));
  EXPECT_FALSE(fs::exists(shared_ + "/quiesced-by-dx-core-1"));
  int hooks = 0;
  for (const v1::Job& j : detail.jobs()) {
    if (j.kind() != v1::JOB_HOOK) continue;
    ++hooks;
    EXPECT_EQ(j.status(), v1::JOB_SUCCEEDED) << j.target() << ": " << j.error();
  }
  EXPECT_EQ(hooks, 4) << "stop and start on each pod";

  // Restored in place through one agent: the shared directory as it was
  // (the markers included: the archive is the moment of the capture).
  fs::remove(shared_ + "/PortalServer/wps.properties");
  ASSERT_EQ(cli_->Run({"restore", set.id(), "--target", "core/profile"}, &out),
            0)
      << out;
  EXPECT_EQ(testing::ReadFile(shared_ + "/PortalServer/wps.properties"),
            "shared by both pods");
}

}  // namespace
}  // namespace dxbackup
