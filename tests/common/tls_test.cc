#include "common/tls.h"

#include <gtest/gtest.h>

namespace dxbackup::common {
namespace {

TEST(IsLoopbackAddressTest, OnlyLoopbackHosts) {
  for (const char* yes : {"127.0.0.1:7070", "127.1.2.3:1", "localhost:7070",
                          "[::1]:7070", "::1", "localhost", "ipv4:127.0.0.1:9",
                          "dns:///localhost:7070", "[::ffff:127.0.0.1]:7070"}) {
    EXPECT_TRUE(IsLoopbackAddress(yes)) << yes;
  }
  for (const char* no :
       {"0.0.0.0:7070", "10.0.0.1:7070", "[::]:7070",
        "scheduler.dxbackup.svc:7070", "128.0.0.1:1", "localhost.example.com:1",
        "127.0.0.1.nip.io:7070", "127.evil.example:1", "127.0.0.1.:1"}) {
    EXPECT_FALSE(IsLoopbackAddress(no)) << no;
  }
}

TEST(TlsCredentialsTest, PlaintextNeedsTheFlagAndLoopback) {
  TlsFlags plain;
  EXPECT_FALSE(ServerCredentials(plain, "127.0.0.1:0").ok());
  EXPECT_FALSE(ChannelCredentials(plain, "127.0.0.1:7070").ok());
  plain.insecure_loopback = true;
  EXPECT_TRUE(ServerCredentials(plain, "127.0.0.1:0").ok());
  EXPECT_TRUE(ChannelCredentials(plain, "localhost:7070").ok());
  EXPECT_FALSE(ServerCredentials(plain, "0.0.0.0:7070").ok());
  EXPECT_FALSE(ChannelCredentials(plain, "10.0.0.1:7070").ok());
  TlsFlags missing{"/nonexistent/cert.pem", "/nonexistent/key.pem", "", false};
  auto creds = ServerCredentials(missing, "0.0.0.0:7070");
  ASSERT_FALSE(creds.ok());
  EXPECT_NE(creds.status().message().find("/nonexistent/cert.pem"),
            std::string::npos);
}

}  // namespace
}  // namespace dxbackup::common
