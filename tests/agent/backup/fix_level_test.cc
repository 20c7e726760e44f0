#include "agent/backup/fix_level.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace dxbackup::agent {
namespace {

TEST(FixLevelTest, ParsesTheFixlevelLine) {
  EXPECT_EQ(
      ParseFixLevel("WPFamilyName=content\nversion=9.5\nfixlevel=CF221\n"),
      "CF221");
  EXPECT_EQ(ParseFixLevel("fixlevel = CF230 \r\n"), "CF230");
  EXPECT_EQ(ParseFixLevel("version=9.5\n"), "");
}

TEST(FixLevelTest, FindsTheProfileAtTheRootOrOneBelow) {
  testing::TempDir dir;
  testing::WriteFile(dir / "profile/PortalServer/wps.properties",
                     "fixlevel=CF221\n");
  testing::WriteFile(dir / "profiles/prof_95_CF225/PortalServer/wps.properties",
                     "fixlevel=CF225\n");
  testing::WriteFile(dir / "upload/a.jpg", "x");
  EXPECT_EQ(FindFixLevel(dir / "profile"), "CF221");
  EXPECT_EQ(FindFixLevel(dir / "profiles"), "CF225");
  EXPECT_EQ(FindFixLevel(dir / "upload"), "");
}

}  // namespace
}  // namespace dxbackup::agent
