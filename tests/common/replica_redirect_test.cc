// The owner address a scheduler replica sends is used only when it is a
// plain HOST:PORT: it arrives from the network and becomes a dial target.
#include "common/replica_redirect.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dxbackup::common {
namespace {

TEST(ReplicaRedirectTest, OnlyAPlainHostAndPortIsAnAddress) {
  for (const std::string ok :
       {"10.42.0.7:7443", "dxbackup-scheduler-1.dxbackup.svc:7443",
        "[fd00::7]:7443", "localhost:1", "h:65535"}) {
    EXPECT_TRUE(ValidReplicaAddress(ok)) << ok;
  }
  for (const std::string& bad : std::vector<std::string>{
           "", "10.42.0.7", "10.42.0.7:", ":7443", "10.42.0.7:0",
           "10.42.0.7:65536", "10.42.0.7:74431", "10.42.0.7:+7443",
           "https://10.42.0.7:7443", "user@host:7443", "host name:7443",
           "host/x:7443", "-host:7443", "[fd00::7:7443", "[]:7443",
           "host\n:7443", "unix:/tmp/sock", std::string(300, 'a') + ":1"}) {
    EXPECT_FALSE(ValidReplicaAddress(bad)) << bad;
  }
}

TEST(ReplicaRedirectTest, TheHostOfATargetIsItsNameWithoutThePort) {
  EXPECT_EQ(HostOf("dxbackup.dxbackup.svc:7443"), "dxbackup.dxbackup.svc");
  EXPECT_EQ(HostOf("[::1]:7443"), "::1");
  EXPECT_EQ(HostOf("scheduler"), "scheduler");
}

// `--advertise=$(POD_IP):7443` on an IPv6 cluster gives a bare address:
// bracketed, it is one ValidReplicaAddress accepts.
TEST(ReplicaRedirectTest, AnIPv6HostIsBracketed) {
  EXPECT_EQ(BracketedAddress("fd00::5:7443"), "[fd00::5]:7443");
  EXPECT_TRUE(ValidReplicaAddress(BracketedAddress("fd00::5:7443")));
  EXPECT_EQ(BracketedAddress("[fd00::5]:7443"), "[fd00::5]:7443");
  EXPECT_EQ(BracketedAddress("10.0.0.5:7443"), "10.0.0.5:7443");
  EXPECT_EQ(BracketedAddress("scheduler-0.dxb:7443"), "scheduler-0.dxb:7443");
}

}  // namespace
}  // namespace dxbackup::common
