// RemoveEntriesNotIn walks the volume in the byte order of its sets and
// removes exactly what they say, whether the sets spilled to disk or not.
#include "agent/restore/volume_replacer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/restore/path_set.h"
#include "agent/restore/restore_root.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::agent {
namespace {

using testing::TempDir;

// Names whose byte order differs from a directory-by-directory walk's.
const std::vector<std::string> kTree = {"a/",   "a/x/",      "a/x/z", "a/x-y",
                                        "a-b/", "a-b/extra", "a.txt", "b",
                                        "b0",   "c/",        "c/d/",  "c/d/e"};

class VolumeReplacerTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    for (const std::string& path : kTree) {
      if (path.back() == '/') {
        std::filesystem::create_directories(Root() + "/" + path);
      } else {
        testing::WriteFile(Root() + "/" + path, path);
      }
    }
  }
  std::string Root() const { return dir_ / "root"; }

  std::unique_ptr<PathSet> Set(const std::vector<std::string>& paths) {
    auto set = std::make_unique<PathSet>(dir_.path(), GetParam());
    for (const std::string& p : paths) EXPECT_TRUE(set->Add(p).ok());
    EXPECT_TRUE(set->Seal().ok());
    return set;
  }

  std::vector<std::string> Left() const {
    std::vector<std::string> left;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(Root())) {
      left.push_back(std::filesystem::relative(e.path(), Root()).string());
    }
    std::sort(left.begin(), left.end());
    return left;
  }

  TempDir dir_;
};

TEST_P(VolumeReplacerTest, RemovesWhatIsNotKept) {
  absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(Root());
  ASSERT_TRUE(root.ok());
  auto keep = Set({".", "a", "a/x", "a/x/z", "a-b", "a.txt", "c", "c/d"});
  PathSet::Cursor cursor = keep->Read();
  absl::StatusOr<uint64_t> removed = RemoveEntriesNotIn(*root, &cursor, {});
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(Left(), (std::vector<std::string>{"a", "a-b", "a.txt", "a/x",
                                              "a/x/z", "c", "c/d"}));
  EXPECT_EQ(*removed, 5u);  // a/x-y, a-b/extra, b, b0, c/d/e
}

TEST_P(VolumeReplacerTest, RemovesOnlyWhatItIsToldUnderThePathsGiven) {
  absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(Root());
  ASSERT_TRUE(root.ok());
  auto keep = Set({"a", "a/x"});
  auto only = Set({"a/x-y", "a/x/z", "a.txt", "b"});
  PathSet::Cursor keep_cursor = keep->Read();
  PathSet::Cursor only_cursor = only->Read();
  absl::StatusOr<uint64_t> removed =
      RemoveEntriesNotIn(*root, &keep_cursor, {"a"}, nullptr, &only_cursor);
  ASSERT_TRUE(removed.ok()) << removed.status();
  // a.txt and b are in `only` but not under "a": they stay.
  EXPECT_EQ(Left(),
            (std::vector<std::string>{"a", "a-b", "a-b/extra", "a.txt", "a/x",
                                      "b", "b0", "c", "c/d", "c/d/e"}));
  EXPECT_EQ(*removed, 2u);
}

INSTANTIATE_TEST_SUITE_P(RunBytes, VolumeReplacerTest,
                         ::testing::Values(PathSet::kDefaultRunBytes, 16));

}  // namespace
}  // namespace dxbackup::agent
