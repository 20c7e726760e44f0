// Which volume a directory is, across pods: the same directory gives the
// same identity, another directory or another kernel another, and a
// shared claim names itself.
#include "agent/volume_identity.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/temp_dir.h"

namespace dxbackup::agent {
namespace {

namespace fs = std::filesystem;

TEST(VolumeIdentityTest, TheSameDirectoryUnderOneKernelIsOneVolume) {
  testing::TempDir dir;
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  fs::create_symlink(dir / "a", dir / "link-to-a");
  testing::WriteFile(dir / "boot_id", "0f6e3f2c-1b3a-4c1e-9d6a-1f2e3d4c5b6a\n");
  const std::string a = VolumeIdentity(dir / "a", "", dir / "boot_id");
  EXPECT_EQ(a.rfind("fs/0f6e3f2c-1b3a-4c1e-9d6a-1f2e3d4c5b6a/", 0), 0u) << a;
  EXPECT_EQ(VolumeIdentity(dir / "link-to-a", "", dir / "boot_id"), a)
      << "a mount of the same directory elsewhere";
  EXPECT_NE(VolumeIdentity(dir / "b", "", dir / "boot_id"), a);
  testing::WriteFile(dir / "other_boot_id",
                     "11111111-2222-3333-4444-555555555555\n");
  EXPECT_NE(VolumeIdentity(dir / "a", "", dir / "other_boot_id"), a)
      << "another node's disk that happens to number alike";
}

TEST(VolumeIdentityTest, AClaimNamesItselfAndNothingKnownIsEmpty) {
  testing::TempDir dir;
  EXPECT_EQ(VolumeIdentity(dir.path(), "dx-dam", dir / "no-boot-id"),
            "pvc/dx-dam");
  EXPECT_EQ(VolumeIdentity(dir.path(), "", dir / "no-boot-id"), "");
  testing::WriteFile(dir / "boot_id", "not/an id\n");
  EXPECT_EQ(VolumeIdentity(dir.path(), "", dir / "boot_id"), "");
  testing::WriteFile(dir / "boot_id", "0f6e3f2c\n");
  EXPECT_EQ(VolumeIdentity(dir / "gone", "", dir / "boot_id"), "");
  EXPECT_NE(VolumeIdentity(dir.path(), ""), "") << "this machine's boot id";
}

}  // namespace
}  // namespace dxbackup::agent
