// The tree comparison the restore tests rely on sees what a restore could
// lose: here, extended attributes and ACLs.
#include "tests/support/tree_compare.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::testing {
namespace {

TEST(CompareTreesTest, SeesADifferentXattrAndAMissingAcl) {
  TempDir dir;
  for (const char* side : {"a", "b"}) {
    const std::string f = dir / (std::string(side) + "/f");
    WriteFile(f, "same");
    const struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, f.c_str(), times, 0), 0);
  }
  EXPECT_EQ(CompareTrees(dir / "a", dir / "b", false),
            std::vector<std::string>{});
  ASSERT_EQ(setxattr((dir / "a/f").c_str(), "user.k", "1", 1, 0), 0);
  ASSERT_EQ(setxattr((dir / "b/f").c_str(), "user.k", "2", 1, 0), 0);
  std::vector<std::string> diffs = CompareTrees(dir / "a", dir / "b", false);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].rfind("f: xattrs/ACLs", 0), 0u) << diffs[0];

  ASSERT_EQ(setxattr((dir / "b/f").c_str(), "user.k", "1", 1, 0), 0);
  std::string out;
  ASSERT_EQ(RunCommand({"setfacl", "-m", "u:1234:r", dir / "a/f"}, &out), 0)
      << out;
  diffs = CompareTrees(dir / "a", dir / "b", false);
  ASSERT_FALSE(diffs.empty()) << "an ACL the copy lacks";
  EXPECT_NE(diffs.back().find("system.posix_acl_access"), std::string::npos)
      << diffs.back();
}

}  // namespace
}  // namespace dxbackup::testing
