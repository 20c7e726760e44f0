// The configuration example in README.md loads: the front door stays true.
#include <gtest/gtest.h>

#include "scheduler/config/scheduler_config.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

TEST(ReadmeConfigTest, TheExampleConfigLoads) {
  const std::string readme =
      testing::ReadFile(std::string(DXBACKUP_SOURCE_DIR) + "/README.md");
  const size_t start = readme.find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = readme.find("```", start + 8);
  const std::string yaml = readme.substr(start + 8, end - start - 8);
  auto config = ParseSchedulerConfig(yaml, "README.md");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policies_size(), 1);
  EXPECT_TRUE(config->policies(0).verify().deep());
  EXPECT_EQ(config->deployments(0).hooks_size(), 2);
  EXPECT_EQ(config->deployments(0).hooks(0).on_failure(), v1::Hook::FAIL_SET);
}

}  // namespace
}  // namespace dxbackup::scheduler
