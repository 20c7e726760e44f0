// TLS on every connection: the scheduler serves its certificate and, with a
// client CA, requires agents' and the CLI's certificates; plaintext only
// with --insecure-loopback and only on loopback addresses.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <regex>

#include "common/sha256.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

using testing::ChildProcess;
using testing::RunCommand;
using testing::WriteFile;

const std::string kBin = DXBACKUP_BIN_DIR;
const std::string kSource = DXBACKUP_SOURCE_DIR;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string out;
    ASSERT_EQ(RunCommand({kSource + "/tools/make-test-certs.sh", certs_}, &out),
              0)
        << out;
    WriteFile(dir_ / "scheduler.yaml",
              "deployments:\n  - {namespace: ns, release: tls}\n"
              "tokens_file: " +
                  dir_ / "tokens.yaml" + "\n");
    // Tokens as a Secret would hold them; the scheduler keeps only hashes.
    WriteFile(dir_ / "agent.token", "agent-token-of-ns\n");
    WriteFile(dir_ / "operator.token", "operator-token\n");
    WriteFile(dir_ / "tokens.yaml",
              "tokens:\n"
              "  - {name: ns-agents, role: agent, namespace: ns, sha256: " +
                  Sha("agent-token-of-ns") +
                  "}\n"
                  "  - {name: ops, role: operator, sha256: " +
                  Sha("operator-token") + "}\n");
    WriteFile(dir_ / "volume/file", "over TLS");
  }

  static std::string Sha(const std::string& s) {
    common::Sha256 h;
    h.Update(s);
    return h.HexDigest();
  }

  std::vector<std::string> ClientTls(const std::string& token = "operator") {
    return {"--tls-ca",     certs_ + "/ca.pem",
            "--tls-cert",   certs_ + "/client.pem",
            "--tls-key",    certs_ + "/client.key",
            "--token-file", dir_ / (token + ".token")};
  }

  // Starts a scheduler that requires client certificates.
  void StartScheduler() {
    testing::SchedulerOptions options = testing::SchedulerIn(dir_.path());
    options.host = "localhost";  // the name in its certificate
    options.tls = {"--tls-cert",      certs_ + "/server.pem",
                   "--tls-key",       certs_ + "/server.key",
                   "--tls-client-ca", certs_ + "/ca.pem"};
    scheduler_ = std::make_unique<testing::SchedulerProcess>(options);
    address_ = scheduler_->address();
    ASSERT_FALSE(address_.empty()) << scheduler_->Output();
  }

  // Starts the core agent of ns/tls over mutual TLS with its token file.
  void StartAgent() {
    testing::AgentOptions options =
        testing::AgentOf(address_, "ns", "tls", "tls-core-0", "core",
                         {"data=" + (dir_ / "volume")}, dir_ / "agent.log");
    options.tls = ClientTls("agent");
    agent_ = std::make_unique<testing::AgentProcess>(options);
    ASSERT_TRUE(agent_->registered()) << agent_->Output();
  }

  // The CLI with these TLS and token flags.
  int Cli(std::vector<std::string> flags, std::vector<std::string> args,
          std::string* out) {
    return testing::CliClient(address_, flags).Run(args, out);
  }

  void TearDown() override {
    for (ChildProcess* p : {static_cast<ChildProcess*>(agent_.get()),
                            static_cast<ChildProcess*>(scheduler_.get())}) {
      if (p) p->Signal(SIGTERM);
    }
  }

  testing::TempDir dir_;
  const std::string certs_ = dir_ / "certs";
  std::string address_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::AgentProcess> agent_;
};

TEST_F(TlsTest, ASetOverMutualTls) {
  StartScheduler();
  StartAgent();
  std::string out;
  EXPECT_EQ(Cli(ClientTls(),
                {"backup", "--namespace", "ns", "--release", "tls"}, &out),
            0)
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("set \\S+ complete"))) << out;

  // Tokens are in no log (the scheduler keeps only their hashes).
  for (const char* log : {"scheduler.log", "agent.log"}) {
    const std::string text = testing::ReadFile(dir_ / log);
    EXPECT_EQ(text.find("agent-token-of-ns"), std::string::npos) << log;
    EXPECT_EQ(text.find("operator-token"), std::string::npos) << log;
  }
  // The agent's token is no operator's.
  EXPECT_EQ(Cli(ClientTls("agent"), {"sets"}, &out), 1) << out;
  EXPECT_NE(out.find("may not do this"), std::string::npos) << out;
  // Plaintext, or TLS without a client certificate, gets nowhere: exit
  // code 3, "the scheduler could not be reached", as the README says.
  EXPECT_EQ(Cli({"--insecure-loopback"}, {"agents"}, &out), 3) << out;
  EXPECT_EQ(Cli({"--tls-ca", certs_ + "/ca.pem"}, {"agents"}, &out), 3) << out;
  // Nor does a CLI pointed at a port where nothing listens.
  EXPECT_EQ(testing::CliClient("127.0.0.1:1", {"--insecure-loopback"})
                .Run({"agents"}, &out),
            3)
      << out;
  EXPECT_NE(out.find("is the scheduler running"), std::string::npos) << out;
  // A server certificate from another CA is not trusted.
  const std::string other = dir_ / "other";
  ASSERT_EQ(RunCommand({kSource + "/tools/make-test-certs.sh", other}, &out),
            0);
  EXPECT_NE(Cli({"--tls-ca", other + "/ca.pem", "--tls-cert",
                 certs_ + "/client.pem", "--tls-key", certs_ + "/client.key"},
                {"agents"}, &out),
            0)
      << out;
}

TEST_F(TlsTest, PlaintextOnlyWhenAskedAndOnlyOnLoopback) {
  std::string out;
  const std::vector<std::string> scheduler = {
      kBin + "/dxbackup-scheduler", "--data-dir", dir_ / "data", "--config",
      dir_ / "scheduler.yaml"};
  auto with = [](std::vector<std::string> v,
                 std::initializer_list<std::string> more) {
    v.insert(v.end(), more);
    return v;
  };
  EXPECT_NE(RunCommand(with(scheduler, {"--listen", "127.0.0.1:0"}), &out), 0);
  EXPECT_NE(out.find("--tls-cert and --tls-key"), std::string::npos) << out;
  EXPECT_NE(RunCommand(with(scheduler,
                            {"--listen", "0.0.0.0:0", "--insecure-loopback"}),
                       &out),
            0);
  EXPECT_NE(out.find("only on a loopback address"), std::string::npos) << out;
  EXPECT_EQ(RunCommand({kBin + "/dxbackup-agent", "--insecure-loopback",
                        "--scheduler", "10.1.2.3:7070", "--namespace", "ns",
                        "--release", "tls", "--component", "core", "--volume",
                        "data=" + (dir_ / "volume")},
                       &out),
            2);
  EXPECT_NE(out.find("10.1.2.3:7070 is not one"), std::string::npos) << out;
  EXPECT_EQ(
      RunCommand({kBin + "/dxbackup", "--server", "127.0.0.1:1", "agents"},
                 &out),
      2);
  EXPECT_NE(out.find("--tls-ca"), std::string::npos) << out;
}

TEST_F(TlsTest, ARunningAgentTakesARotatedTokenFromItsTokenFile) {
  StartScheduler();
  StartAgent();
  // The Secret is rotated: the agent's file holds the new token, the
  // scheduler knows only the new one. The agent is not restarted; its
  // next call (the set's upload) must carry the new token.
  WriteFile(dir_ / "agent.token", "rotated-agent-token\n");
  WriteFile(dir_ / "tokens.yaml",
            "tokens:\n"
            "  - {name: ns-agents-2, role: agent, namespace: ns, sha256: " +
                Sha("rotated-agent-token") +
                "}\n"
                "  - {name: ops, role: operator, sha256: " +
                Sha("operator-token") + "}\n");
  std::string out;
  EXPECT_EQ(Cli(ClientTls(),
                {"backup", "--namespace", "ns", "--release", "tls"}, &out),
            0)
      << out << agent_->Output();
  // And the CLI reads its own file at each call: an old token is refused.
  WriteFile(dir_ / "operator.token", "operator-token-revoked\n");
  EXPECT_EQ(Cli(ClientTls(), {"sets"}, &out), 1) << out;
  EXPECT_NE(out.find("unknown token"), std::string::npos) << out;
}

}  // namespace
}  // namespace dxbackup
