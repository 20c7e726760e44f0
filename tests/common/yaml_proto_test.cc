#include "common/yaml_proto.h"

#include <gtest/gtest.h>

#include "dxbackup/v1/config.pb.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::common {
namespace {

TEST(YamlProtoTest, LoadsNestedMessagesListsAndScalars) {
  v1::SchedulerConfig config;
  absl::Status s = ParseYamlIntoProto(R"(
heartbeat_seconds: 5
deployments:
  - namespace: dx-prod
    release: dx
    databases:
      - dbname: dxmediadb
        port: 5432
)",
                                      "c.yaml", &config);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(config.heartbeat_seconds(), 5);
  ASSERT_EQ(config.deployments_size(), 1);
  EXPECT_EQ(config.deployments(0).namespace_(), "dx-prod");
  EXPECT_EQ(config.deployments(0).databases(0).port(), 5432);
}

TEST(YamlProtoTest, UnknownKeyNamesFileLineAndKey) {
  v1::SchedulerConfig config;
  absl::Status s = ParseYamlIntoProto(
      "deployments:\n  - namespace: a\n    relase: dx\n", "c.yaml", &config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("c.yaml:3:"), std::string::npos) << s;
  EXPECT_NE(s.message().find("deployments[0].relase"), std::string::npos) << s;
  EXPECT_NE(s.message().find("release"), std::string::npos)
      << "lists the known keys: " << s;
}

TEST(YamlProtoTest, WrongTypeNamesTheValue) {
  v1::SchedulerConfig config;
  absl::Status s =
      ParseYamlIntoProto("heartbeat_seconds: often\n", "c.yaml", &config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(
      s.message().find("c.yaml:1: heartbeat_seconds: expected an integer"),
      std::string::npos)
      << s;
  s = ParseYamlIntoProto("heartbeat_seconds: 99999999999\n", "c.yaml", &config);
  EXPECT_FALSE(s.ok());
  s = ParseYamlIntoProto("deployments: {a: 1}\n", "c.yaml", &config);
  EXPECT_FALSE(s.ok());
}

TEST(YamlProtoTest, SyntaxErrorNamesTheLine) {
  v1::SchedulerConfig config;
  absl::Status s = ParseYamlIntoProto(
      "deployments:\n  - namespace: [unclosed\n", "bad.yaml", &config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad.yaml:"), std::string::npos) << s;
  EXPECT_NE(s.message().find("not valid YAML"), std::string::npos) << s;
}

TEST(YamlProtoTest, EnumsByShortOrFullName) {
  v1::CaptureOptions options;
  ASSERT_TRUE(ParseYamlIntoProto("compression: gzip\nexcludes: ['*.tmp']\n",
                                 "o.yaml", &options)
                  .ok());
  EXPECT_EQ(options.compression(), v1::COMPRESSION_GZIP);
  EXPECT_EQ(options.excludes(0), "*.tmp");
  ASSERT_TRUE(
      ParseYamlIntoProto("compression: COMPRESSION_ZSTD\n", "o.yaml", &options)
          .ok());
  EXPECT_EQ(options.compression(), v1::COMPRESSION_ZSTD);
  absl::Status s = ParseYamlIntoProto("compression: lz4\n", "o.yaml", &options);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("COMPRESSION_GZIP"), std::string::npos) << s;
}

TEST(YamlProtoTest, MissingFileIsAnError) {
  v1::SchedulerConfig config;
  absl::Status s = LoadYamlFileIntoProto("/nonexistent/c.yaml", &config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/c.yaml"), std::string::npos);
}

TEST(YamlProtoTest, AKeyGivenTwiceIsAnError) {
  for (const char* twice :
       {"heartbeat_seconds: 5\nheartbeat_seconds: 6\n",
        "policies:\n  - name: p\n    retention: {keep_last: 1}\n"
        "    retention: {keep_daily: 7}\n",
        "policies:\n  - name: p\n    selector:\n      agent_labels: "
        "{tier: prod, tier: dev}\n"}) {
    v1::SchedulerConfig config;
    absl::Status s = ParseYamlIntoProto(twice, "c.yaml", &config);
    ASSERT_FALSE(s.ok()) << twice;
    EXPECT_NE(s.message().find("given twice"), std::string::npos) << s;
    EXPECT_NE(s.message().find("c.yaml:"), std::string::npos) << s;
  }
}

TEST(YamlProtoTest, AStringThatIsNotUtf8IsAnError) {
  v1::SchedulerConfig config;
  absl::Status s = ParseYamlIntoProto(
      "deployments:\n  - namespace: a\n    release: b\n    hooks:\n"
      "      - {name: h, component: core, phase: pre, command: "
      "[\"/opt/caf\xe9.sh\"]}\n",
      "c.yaml", &config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("c.yaml:5:"), std::string::npos) << s;
  EXPECT_NE(s.message().find("not UTF-8"), std::string::npos) << s;
  EXPECT_TRUE(ParseYamlIntoProto("deployments:\n  - {namespace: caf\xc3\xa9, "
                                 "release: b}\n",
                                 "c.yaml", &config)
                  .ok())
      << "UTF-8 is fine";
}

}  // namespace
}  // namespace dxbackup::common
