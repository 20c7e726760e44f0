// What a restore sends of stored objects: each document as YAML for its
// collection, the namespace rewritten, quoted strings kept strings, and
// the Helm record only into its own release.
#include "scheduler/kubernetes/release_restore.h"

#include <gtest/gtest.h>

#include "scheduler/kubernetes/release_objects.h"

namespace dxbackup::scheduler {
namespace {

TEST(ObjectsToCreateTest, RewritesTheNamespaceAndKeepsTheTypes) {
  auto stored =
      ReleaseObjectsYaml({{"ConfigMap", R"({"kind": "ConfigMapList", "items": [
          {"metadata": {"name": "c", "namespace": "dx-prod"},
           "data": {"n": "1", "t": "true"}, "immutable": true}]})"},
                          {"Secret", R"({"kind": "SecretList", "items": [
          {"metadata": {"name": "sh.helm.release.v1.dx.v7",
                        "namespace": "dx-prod"},
           "type": "helm.sh/release.v1", "data": {"release": "SDRz"}}]})"}});
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto objects = ObjectsToCreate(stored->yaml, "dx-test", true);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[0].resource, "configmaps");
  EXPECT_EQ((*objects)[0].name, "c");
  EXPECT_EQ((*objects)[0].yaml,
            "\"apiVersion\": \"v1\"\n"
            "\"data\":\n  \"n\": \"1\"\n  \"t\": \"true\"\n"
            "\"immutable\": true\n"
            "\"kind\": \"ConfigMap\"\n"
            "\"metadata\":\n  \"name\": \"c\"\n  \"namespace\": \"dx-test\"");
  EXPECT_EQ((*objects)[1].resource, "secrets");

  objects = ObjectsToCreate(stored->yaml, "dx-test", false);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 1u) << "no Helm record for another release";
}

TEST(ObjectsToCreateTest, RefusesWhatIsNoSecretOrConfigMap) {
  for (const char* yaml :
       {"---\nkind: Pod\nmetadata: {name: p}\n",
        "---\nkind: Secret\nmetadata: {name: ../x}\n",
        "---\nkind: Secret\nmetadata: {}\n", "{[ not yaml"}) {
    EXPECT_EQ(ObjectsToCreate(yaml, "dx", true).status().code(),
              absl::StatusCode::kDataLoss)
        << yaml;
  }
}

}  // namespace
}  // namespace dxbackup::scheduler
