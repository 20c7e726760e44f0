// A release's objects as YAML: what is kept, what is left out, and an
// answer that is no list of the kind asked for.
#include "scheduler/kubernetes/release_objects.h"

#include <gtest/gtest.h>

#include "scheduler/kubernetes/kube_client.h"

namespace dxbackup::scheduler {
namespace {

TEST(ReleaseObjectsYamlTest, KeepsWhatRecreatesAnObjectAndNothingElse) {
  auto yaml = ReleaseObjectsYaml({{"ConfigMap", R"({
    "kind": "ConfigMapList", "apiVersion": "v1", "metadata": {},
    "items": [{"metadata": {"name": "c", "namespace": "n", "uid": "u-1",
                            "resourceVersion": "7", "labels": {"a": "b"}},
               "data": {"n": "1", "t": "true"}, "immutable": true}]})"}});
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(yaml->count, 1);
  EXPECT_EQ(yaml->yaml,
            "---\n"
            "\"apiVersion\": \"v1\"\n"
            "\"data\":\n  \"n\": \"1\"\n  \"t\": \"true\"\n"
            "\"immutable\": true\n"
            "\"kind\": \"ConfigMap\"\n"
            "\"metadata\":\n  \"labels\":\n    \"a\": \"b\"\n"
            "  \"name\": \"c\"\n  \"namespace\": \"n\"\n");
}

TEST(ReleaseObjectsYamlTest, AnAnswerThatIsNoSuchListIsDataLoss) {
  for (const char* json : {"not json", R"({"kind": "Status", "code": 404})",
                           R"({"kind": "SecretList", "items": []})"}) {
    auto yaml = ReleaseObjectsYaml({{"ConfigMap", json}});
    EXPECT_EQ(yaml.status().code(), absl::StatusCode::kDataLoss) << json;
  }
  auto empty = ReleaseObjectsYaml(
      {{"Secret", R"({"kind": "SecretList", "items": []})"}});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->count, 0);
  EXPECT_EQ(empty->yaml, "");
}

TEST(QueryEscapeTest, EscapesALabelSelector) {
  EXPECT_EQ(QueryEscape("owner=helm,name=dx"), "owner%3Dhelm%2Cname%3Ddx");
  EXPECT_EQ(QueryEscape("app.kubernetes.io/instance=dx"),
            "app.kubernetes.io%2Finstance%3Ddx");
}

}  // namespace
}  // namespace dxbackup::scheduler
