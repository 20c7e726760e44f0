// The checks names from the network pass before they become paths, keys
// or arguments: what each lets through, and what it refuses, saying why.
#include "common/resource_names.h"

#include <gtest/gtest.h>

namespace dxbackup::common {
namespace {

TEST(ResourceNamesTest, ADnsSubdomainIsAKubernetesObjectName) {
  for (const char* good : {"dx-dam", "wp-profile-dx-core-0", "a", "a.b-c.d9"}) {
    EXPECT_TRUE(CheckDnsSubdomain("claim", good).ok()) << good;
  }
  for (const char* bad :
       {"", "-dx", "dx-", "Dx", "dx_dam", "dx/dam", ".dx", "dx.", "dx dam"}) {
    absl::Status s = CheckDnsSubdomain("claim", bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("claim"), absl::string_view::npos) << s;
  }
  EXPECT_TRUE(CheckDnsSubdomain("claim", std::string(253, 'a')).ok());
  EXPECT_FALSE(CheckDnsSubdomain("claim", std::string(254, 'a')).ok());
}

TEST(ResourceNamesTest, AVolumeIdentityIsPlainText) {
  for (const char* good :
       {"pvc/dx-dam", "fs/0f6e3f2c-1b3a-4c1e-9d6a-1f2e3d4c5b6a/8:16/131073"}) {
    EXPECT_TRUE(CheckVolumeIdentity("volume identity", good).ok()) << good;
  }
  for (const char* bad : {"", "pvc/dx dam", "fs/\n", "pvc/$(id)"}) {
    EXPECT_FALSE(CheckVolumeIdentity("volume identity", bad).ok()) << bad;
  }
  EXPECT_FALSE(
      CheckVolumeIdentity("volume identity", std::string(301, 'a')).ok());
}

TEST(ResourceNamesTest, AnAgentIdIsNamespaceReleaseAndPod) {
  EXPECT_TRUE(CheckAgentId("--agent", "dx-drills/scratch/drill-0").ok());
  for (const char* bad : {"", "drill-0", "dx/drill-0", "a/b/c/d", "a//c",
                          "../b/c", "A/b/c", "a/b/c/", "/a/b"}) {
    absl::Status s = CheckAgentId("--agent", bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("namespace/release/pod"), std::string::npos)
        << s.message();
  }
}

}  // namespace
}  // namespace dxbackup::common
