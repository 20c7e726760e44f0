#include "scheduler/scheduler_config.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

TEST(SchedulerConfigTest, DatabaseNameDefaultsToDbname) {
  auto config = ParseSchedulerConfig(R"(
deployments:
  - namespace: dx-prod
    release: dx
    databases:
      - dbname: dxmediadb
        host: /run/postgresql
        password_file: /etc/dxbackup/pg
)",
                                     "s.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->deployments(0).databases(0).name(), "dxmediadb");
}

TEST(SchedulerConfigTest, RejectsDuplicatesAndMissingFields) {
  auto dup = ParseSchedulerConfig(
      "deployments:\n  - {namespace: a, release: dx}\n"
      "  - {namespace: a, release: dx}\n",
      "s.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("s.yaml: deployments[1]"),
            std::string::npos)
      << dup.status();
  auto nodb = ParseSchedulerConfig(
      "deployments:\n  - namespace: a\n    release: dx\n    databases:\n"
      "      - host: x\n",
      "s.yaml");
  ASSERT_FALSE(nodb.ok());
  EXPECT_NE(nodb.status().message().find("needs dbname"), std::string::npos);
}

TEST(SchedulerConfigTest, FileErrorsNameTheFileAndLine) {
  testing::TempDir dir;
  testing::WriteFile(dir / "bad.yaml",
                     "deployments:\n  - namespace: a\n    release: dx\n"
                     "    databses: []\n");
  auto config = LoadSchedulerConfig(dir / "bad.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(dir / "bad.yaml:4:"),
            std::string::npos)
      << config.status();
}

}  // namespace
}  // namespace dxbackup::scheduler
