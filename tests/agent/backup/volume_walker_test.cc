#include "agent/backup/volume_walker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "tests/support/temp_dir.h"

namespace dxbackup::agent {
namespace {

using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> Walk(const std::string& root,
                              std::vector<std::string> excludes = {}) {
  std::vector<std::string> seen;
  VolumeWalker walker(root, std::move(excludes));
  absl::Status s = walker.Walk([&](const WalkEntry& e) {
    seen.push_back(e.relative_path);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return seen;
}

TEST(VolumeWalkerTest, VisitsInByteOrderOfTheWholePath) {
  TempDir dir;
  WriteFile(dir / "vol/b/2", "x");
  WriteFile(dir / "vol/b/1", "x");
  WriteFile(dir / "vol/a", "x");
  WriteFile(dir / "vol/c/d/e", "x");
  WriteFile(dir / "vol/c-d", "x");
  WriteFile(dir / "vol/c.xml", "x");
  WriteFile(dir / "vol/c/d.txt", "x");
  const std::vector<std::string> seen = Walk(dir / "vol");
  EXPECT_EQ(seen,
            (std::vector<std::string>{".", "a", "b", "b/1", "b/2", "c", "c-d",
                                      "c.xml", "c/d", "c/d.txt", "c/d/e"}));
  EXPECT_TRUE(std::is_sorted(seen.begin() + 1, seen.end()))
      << "the catalog's order";
}

TEST(VolumeWalkerTest, ExcludesByNameAnywhereOrByPath) {
  TempDir dir;
  WriteFile(dir / "vol/keep.xml", "x");
  WriteFile(dir / "vol/x.tmp", "x");
  WriteFile(dir / "vol/deep/y.tmp", "x");
  WriteFile(dir / "vol/wstemp/cache/big", "x");
  WriteFile(dir / "vol/other/wstemp/kept", "x");
  EXPECT_EQ(Walk(dir / "vol", {"*.tmp", "wstemp"}),
            (std::vector<std::string>{".", "deep", "keep.xml", "other"}));
  EXPECT_EQ(Walk(dir / "vol", {"wstemp/*"}),
            (std::vector<std::string>{".", "deep", "deep/y.tmp", "keep.xml",
                                      "other", "other/wstemp",
                                      "other/wstemp/kept", "wstemp", "x.tmp"}));
}

TEST(VolumeWalkerTest, ResolvesTheRootButNotSymlinksInside) {
  TempDir dir;
  WriteFile(dir / "real/file", "x");
  WriteFile(dir / "elsewhere/secret", "x");
  ASSERT_EQ(symlink("real", (dir / "link").c_str()), 0);
  ASSERT_EQ(symlink("../elsewhere", (dir / "real/out").c_str()), 0);
  EXPECT_EQ(Walk(dir / "link"), (std::vector<std::string>{".", "file", "out"}));
}

TEST(VolumeWalkerTest, MissingVolumeIsAnErrorNamingIt) {
  VolumeWalker walker("/nonexistent/volume", {});
  absl::Status s =
      walker.Walk([](const WalkEntry&) { return absl::OkStatus(); });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/volume"), std::string::npos);
}

}  // namespace
}  // namespace dxbackup::agent
