// PathSet holds any number of paths in bounded memory and reads them back
// in byte order, spilled to disk or not.
#include "agent/restore/path_set.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace dxbackup::agent {
namespace {

using testing::TempDir;

// Checks `set` holds exactly `want`, querying every path of `probe` (a
// superset) in byte order.
void ExpectHolds(const PathSet& set, const std::set<std::string>& want,
                 const std::set<std::string>& probe) {
  EXPECT_EQ(set.size(), want.size());
  PathSet::Cursor cursor = set.Read();
  for (const std::string& path : probe) {
    absl::StatusOr<bool> has = cursor.Contains(path);
    ASSERT_TRUE(has.ok()) << has.status();
    EXPECT_EQ(*has, want.count(path) == 1) << path;
  }
}

class PathSetTest : public ::testing::TestWithParam<size_t> {
 protected:
  TempDir dir_;
};

TEST_P(PathSetTest, HoldsEveryPathAddedOnceInByteOrder) {
  std::mt19937 random(42);
  std::set<std::string> want, probe;
  PathSet set(dir_.path(), GetParam());
  for (int i = 0; i < 5000; ++i) {
    const std::string path = "d" + std::to_string(random() % 50) + "/f" +
                             std::to_string(random() % 200);
    ASSERT_TRUE(set.Add(path).ok());
    want.insert(path);
    probe.insert(path);
    probe.insert(path + "-absent");
  }
  ASSERT_TRUE(set.Seal().ok());
  ExpectHolds(set, want, probe);
  ExpectHolds(set, want, probe);  // a second cursor reads it all again
}

// In memory, and spilled in runs of a few hundred bytes.
INSTANTIATE_TEST_SUITE_P(RunBytes, PathSetTest,
                         ::testing::Values(PathSet::kDefaultRunBytes, 300));

TEST(PathSetOrderTest, SortsAsTheWalkVisits) {
  TempDir dir;
  const std::vector<std::string> walk = {"a", "a-b",     "a.txt", "a/x",
                                         "b", "caf\xe9", "z",     "\xe9t\xe9"};
  for (size_t run_bytes : {PathSet::kDefaultRunBytes, size_t{8}}) {
    PathSet set(dir.path(), run_bytes);
    for (auto it = walk.rbegin(); it != walk.rend(); ++it) {
      ASSERT_TRUE(set.Add(*it).ok());
    }
    ASSERT_TRUE(set.Seal().ok());
    PathSet::Cursor cursor = set.Read();
    for (const std::string& path : walk) {
      EXPECT_TRUE(*cursor.Contains(path)) << path << " out of order";
    }
  }
}

TEST(PathSetOrderTest, NothingIsAddedOnceSealed) {
  PathSet set;
  ASSERT_TRUE(set.Add("a").ok());
  ASSERT_TRUE(set.Seal().ok());
  EXPECT_FALSE(set.Add("b").ok());
  EXPECT_EQ(set.size(), 1u);
}

TEST(PathSetOrderTest, AMissingTemporaryDirectoryIsAClearError) {
  PathSet set("/nonexistent/dxbackup", 8);
  absl::Status s = set.Add("a long enough path");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/dxbackup"), std::string::npos) << s;
}

}  // namespace
}  // namespace dxbackup::agent
