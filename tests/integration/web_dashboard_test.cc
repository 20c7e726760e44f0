// The web dashboard of a real scheduler, over real HTTPS (its gRPC
// certificate) and HTTP, asked with curl: who gets in, what the server
// refuses, and where it will not serve plain HTTP. The pages themselves in
// a browser: tests/browser.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>

#include "scheduler/access/token_auth.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

using testing::RunCommand;
using testing::WriteFile;

const std::string kSource = DXBACKUP_SOURCE_DIR;

class WebDashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string out;
    ASSERT_EQ(RunCommand({kSource + "/tools/make-test-certs.sh", certs_}, &out),
              0)
        << out;
    testing::FleetShape shape;
    shape.deployments = 12;
    shape.sets_per_deployment = 5;
    shape.now_unix = time(nullptr);
    std::filesystem::create_directories(dir_ / "data");
    ASSERT_TRUE(testing::GenerateFleet(dir_ / "data/catalog.db", shape).ok());
    WriteFile(dir_ / "tokens.yaml",
              "tokens:\n  - {name: dashboards, role: viewer, sha256: " +
                  scheduler::TokenDigest("viewer-token") +
                  "}\n  - {name: agents, role: agent, namespace: dx-t0001, "
                  "sha256: " +
                  scheduler::TokenDigest("agent-token") + "}\n");
    config_ = "tokens_file: " + dir_ / "tokens.yaml" + "\n" +
              testing::FleetPolicyYaml();
  }

  void TearDown() override {
    if (scheduler_) scheduler_->Signal(SIGTERM);
  }

  // A scheduler serving gRPC and the dashboard over TLS (no client
  // certificates asked for).
  void StartOverTls() {
    testing::SchedulerOptions options =
        testing::SchedulerIn(dir_.path(), config_);
    options.host = "localhost";
    options.tls = {"--tls-cert", certs_ + "/server.pem", "--tls-key",
                   certs_ + "/server.key"};
    options.flags = {"--web-listen", "localhost:0"};
    scheduler_ = std::make_unique<testing::SchedulerProcess>(options);
    ASSERT_FALSE(scheduler_->address().empty()) << scheduler_->Output();
    web_port_ = scheduler_->WaitForWebPort();
    ASSERT_NE(web_port_, 0) << scheduler_->Output();
  }

  // curl's status code line, then headers and body, of one request.
  std::string Curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {"curl", "-s", "-i", "--cacert",
                                     certs_ + "/ca.pem"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    RunCommand(argv, &out);
    return out;
  }
  std::string Url(const std::string& path) {
    return "https://localhost:" + std::to_string(web_port_) + path;
  }

  testing::TempDir dir_;
  const std::string certs_ = dir_ / "certs";
  std::string config_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  int web_port_ = 0;
};

bool StatusIs(const std::string& response, int code) {
  return response.rfind("HTTP/1.1 " + std::to_string(code), 0) == 0;
}

TEST_F(WebDashboardTest, ServesAViewerOverHttpsWithTheSchedulersCertificate) {
  StartOverTls();
  std::string r = Curl({Url("/")});
  EXPECT_TRUE(StatusIs(r, 401)) << r;
  EXPECT_NE(r.find("WWW-Authenticate: Bearer"), std::string::npos) << r;
  r = Curl({"-H", "Authorization: Bearer agent-token", Url("/")});
  EXPECT_TRUE(StatusIs(r, 403)) << r;
  r = Curl({"-H", "Authorization: Bearer viewer-token", Url("/")});
  ASSERT_TRUE(StatusIs(r, 200)) << r;
  EXPECT_NE(r.find("12 deployments"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Security-Policy:"), std::string::npos);

  // A browser's sign-in: a form POST, answered with a Secure cookie.
  r = Curl({"--data-urlencode", "token=viewer-token", "--data-urlencode",
            "next=/d/dx-t0003/dx", Url("/login")});
  ASSERT_TRUE(StatusIs(r, 303)) << r;
  EXPECT_NE(r.find("Location: /d/dx-t0003/dx"), std::string::npos) << r;
  const size_t cookie_at = r.find("Set-Cookie: dxbackup_session=");
  ASSERT_NE(cookie_at, std::string::npos) << r;
  const std::string cookie_line =
      r.substr(cookie_at, r.find('\n', cookie_at) - cookie_at);
  EXPECT_NE(cookie_line.find("; Secure"), std::string::npos) << cookie_line;
  const std::string session = cookie_line.substr(
      12, cookie_line.find(';') - 12);  // "dxbackup_session=…"
  r = Curl({"-b", session, Url("/d/dx-t0003/dx")});
  EXPECT_TRUE(StatusIs(r, 200)) << r;
  EXPECT_NE(r.find("<h1>dx-t0003/dx</h1>"), std::string::npos) << r;

  // What the server itself refuses, before any page.
  r = Curl({"-X", "PUT", Url("/")});
  EXPECT_TRUE(StatusIs(r, 405)) << r;
  r = Curl({"--data-binary", std::string(20000, 'x'), "-H",
            "Content-Type: application/x-www-form-urlencoded", Url("/login")});
  EXPECT_TRUE(StatusIs(r, 413)) << r;
  // Plain HTTP on the HTTPS port gets no page.
  std::string plain;
  RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
              "http://localhost:" + std::to_string(web_port_) + "/"},
             &plain);
  EXPECT_NE(plain, "200") << plain;
}

TEST_F(WebDashboardTest, ServesPlainHttpOnlyOnLoopback) {
  testing::SchedulerOptions options =
      testing::SchedulerIn(dir_.path(), config_);
  options.flags = {"--web-listen", "0.0.0.0:0"};
  testing::SchedulerProcess refused(options);
  EXPECT_TRUE(refused.address().empty());
  EXPECT_EQ(refused.Wait(), 1);
  EXPECT_NE(refused.Output().find("--web-listen 0.0.0.0:0 is not a loopback "
                                  "address, so the dashboard needs TLS"),
            std::string::npos)
      << refused.Output();

  options.flags = {"--web-listen", "127.0.0.1:0"};
  options.log = dir_ / "second.log";
  scheduler_ = std::make_unique<testing::SchedulerProcess>(options);
  const int port = scheduler_->WaitForWebPort();
  ASSERT_NE(port, 0) << scheduler_->Output();
  std::string code;
  RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
              "Authorization: Bearer viewer-token",
              "http://127.0.0.1:" + std::to_string(port) + "/s/nope"},
             &code);
  EXPECT_EQ(code, "404");
}

}  // namespace
}  // namespace dxbackup
