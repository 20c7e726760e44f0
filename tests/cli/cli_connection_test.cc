// Where the CLI finds its scheduler: flags over environment variables over
// the config file's context, each field on its own.
#include "tools/cli/cli_connection.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/support/temp_dir.h"

namespace dxbackup::cli {
namespace {

class CliConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { env_["HOME"] = dir_.path(); }

  // The config file where HOME says it is.
  void WriteConfig(const std::string& yaml) {
    testing::WriteFile(dir_ / ".config/dxbackup/config.yaml", yaml);
  }

  absl::StatusOr<Connection> Resolve(const ConnectionFlags& flags = {}) {
    return ResolveConnection(flags, [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    });
  }

  testing::TempDir dir_;
  std::map<std::string, std::string> env_;
};

constexpr char kTwoContexts[] = R"(current_context: prod
contexts:
  - name: prod
    server: dxbackup.backup.svc:7070
    tls_ca: certs/ca.pem
    tls_cert: /etc/operator.pem
    tls_key: /etc/operator.key
    token_file: operator.token
  - name: local
    server: 127.0.0.1:7171
    insecure_loopback: true
)";

TEST_F(CliConnectionTest, WithNothingGivenItIsTheLocalDefault) {
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "127.0.0.1:7070");
  EXPECT_EQ(c->tls.ca_file, "");
  EXPECT_EQ(c->context, "");
  EXPECT_EQ(c->config_file, "");
}

TEST_F(CliConnectionTest, TheCurrentContextGivesEverythingPathsBesideTheFile) {
  WriteConfig(kTwoContexts);
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->context, "prod");
  EXPECT_EQ(c->server, "dxbackup.backup.svc:7070");
  EXPECT_EQ(c->tls.ca_file, dir_ / ".config/dxbackup/certs/ca.pem");
  EXPECT_EQ(c->tls.cert_file, "/etc/operator.pem");
  EXPECT_EQ(c->tls.key_file, "/etc/operator.key");
  EXPECT_EQ(c->token_file, dir_ / ".config/dxbackup/operator.token");
  EXPECT_FALSE(c->tls.insecure_loopback);
}

TEST_F(CliConnectionTest, FlagsBeatTheEnvironmentWhichBeatsTheContext) {
  WriteConfig(kTwoContexts);
  env_["DXBACKUP_SERVER"] = "env.example:7070";
  env_["DXBACKUP_TOKEN_FILE"] = "/env/token";
  env_["DXBACKUP_TLS_KEY"] = "/env/key.pem";
  ConnectionFlags flags;
  flags.server = "flag.example:7070";
  auto c = Resolve(flags);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "flag.example:7070");         // flag
  EXPECT_EQ(c->token_file, "/env/token");            // environment
  EXPECT_EQ(c->tls.key_file, "/env/key.pem");        // environment
  EXPECT_EQ(c->tls.cert_file, "/etc/operator.pem");  // context
}

TEST_F(CliConnectionTest, AContextIsPickedByFlagThenByEnvironment) {
  WriteConfig(kTwoContexts);
  env_["DXBACKUP_CONTEXT"] = "local";
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->context, "local");
  EXPECT_EQ(c->server, "127.0.0.1:7171");
  EXPECT_TRUE(c->tls.insecure_loopback);
  ConnectionFlags flags;
  flags.context = "prod";
  c = Resolve(flags);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->context, "prod");
}

TEST_F(CliConnectionTest, ACaFromTheEnvironmentOverridesAContextsPlaintext) {
  WriteConfig(kTwoContexts);
  env_["DXBACKUP_CONTEXT"] = "local";
  env_["DXBACKUP_TLS_CA"] = "/env/ca.pem";
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls.ca_file, "/env/ca.pem");
  EXPECT_FALSE(c->tls.insecure_loopback);
}

// Found in review: the context's CA turned TLS back on (with its client
// certificate) against a local plaintext scheduler.
TEST_F(CliConnectionTest, InsecureLoopbackGivenDropsTheContextsTlsFiles) {
  WriteConfig(kTwoContexts);
  ConnectionFlags flags;
  flags.server = "127.0.0.1:7070";
  flags.tls.insecure_loopback = true;
  auto c = Resolve(flags);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tls.insecure_loopback);
  EXPECT_EQ(c->tls.ca_file, "");
  EXPECT_EQ(c->tls.cert_file, "");
  EXPECT_EQ(c->tls.key_file, "");
}

TEST_F(CliConnectionTest, TheFileIsFoundThroughXdgOrDxbackupConfig) {
  testing::WriteFile(dir_ / "xdg/dxbackup/config.yaml",
                     "contexts: [{name: a, server: 'xdg:1'}]\n"
                     "current_context: a\n");
  env_["XDG_CONFIG_HOME"] = dir_ / "xdg";
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "xdg:1");
  testing::WriteFile(dir_ / "elsewhere.yaml",
                     "contexts: [{name: b, server: 'explicit:2'}]\n"
                     "current_context: b\n");
  env_["DXBACKUP_CONFIG"] = dir_ / "elsewhere.yaml";
  c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "explicit:2");
  EXPECT_EQ(c->config_file, dir_ / "elsewhere.yaml");
}

TEST_F(CliConnectionTest, AnUnknownContextNamesThoseThereAre) {
  WriteConfig(kTwoContexts);
  ConnectionFlags flags;
  flags.context = "staging";
  auto c = Resolve(flags);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("has no context staging; it has prod, "
                                      "local"),
            std::string::npos)
      << c.status();
}

TEST_F(CliConnectionTest, AContextWithoutAFileSaysWhereTheFileWasLookedFor) {
  ConnectionFlags flags;
  flags.context = "prod";
  auto c = Resolve(flags);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find(dir_ / ".config/dxbackup/config.yaml"),
            std::string::npos)
      << c.status();
}

TEST_F(CliConnectionTest, AMalformedFileIsRefusedNamingItsLine) {
  WriteConfig(
      "current_context: prod\ncontexts:\n  - name: prod\n"
      "    sever: typo:7070\n");
  auto c = Resolve();
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("config.yaml:4"), std::string::npos)
      << c.status();
  EXPECT_NE(c.status().message().find("sever"), std::string::npos)
      << c.status();
}

}  // namespace
}  // namespace dxbackup::cli
