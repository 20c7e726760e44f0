// A deployment's Kubernetes objects, end to end, against a recorded API: a
// real scheduler reads the release's Secrets, ConfigMaps and Helm release
// record over HTTPS from a server that answers with recorded list answers
// in the API's real JSON shapes (tests/kubernetes), and stores them as the
// member k8s/objects — YAML that re-creates them, less what the server
// sets and less service-account tokens, its contents in no log; an API
// that refuses the token, or a selector that matches no Secret or
// ConfigMap (an empty list, as a real API answers), fails the member
// saying so.
// (No cluster runs here: see the README for what was not seen against a
// real API server.)
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>

#include "dxbackup/v1/admin.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::RunCommand;
using testing::WriteFile;

// In the recorded answers: a Secret's value, base64 and plain, and a
// service-account token's.
constexpr char kSecretBase64[] = "bGRhcC1zZWNyZXQtNDcxMQ==";
constexpr char kSecretPlain[] = "ldap-secret-4711";
constexpr char kServiceAccountToken[] =
    "ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjk=";
constexpr char kApiToken[] = "recorded-api-token-9f31";

class KubernetesObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string out;
    ASSERT_EQ(RunCommand({testing::SourceDir() + "/tools/make-test-certs.sh",
                          dir_ / "certs"},
                         &out),
              0)
        << out;
    WriteFile(dir_ / "token", std::string(kApiToken) + "\n");
    const std::string recorded = testing::SourceDir() + "/tests/kubernetes";
    api_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{
            "/usr/bin/python3", recorded + "/recorded_api_server.py", "--cert",
            dir_ / "certs/server.pem", "--key", dir_ / "certs/server.key",
            "--token", dir_ / "token", "--answers", recorded + "/answers.json",
            "--requests", dir_ / "requests.log", "--existing", "dx-core"},
        dir_ / "api.log");
    std::smatch m;
    const std::string line = api_->WaitForLine("listening on port");
    ASSERT_TRUE(std::regex_search(line, m, std::regex("port (\\d+)")))
        << api_->Output();
    WriteFile(dir_ / "scheduler.yaml",
              "kubernetes_api:\n  server: https://localhost:" + m[1].str() +
                  "\n  token_file: " + dir_ / "token" +
                  "\n  ca_file: " + dir_ / "certs/ca.pem" +
                  "\ndeployments:\n"
                  "  - namespace: dx-prod\n    release: dx\n"
                  "    kubernetes: {capture: true}\n"
                  "  - namespace: dx-prod\n    release: unlabelled\n"
                  "    kubernetes: {capture: true}\n");
    scheduler_ = std::make_unique<testing::SchedulerProcess>(
        testing::SchedulerIn(dir_.path()));
    ASSERT_FALSE(scheduler_->address().empty()) << scheduler_->Output();
    cli_ = std::make_unique<testing::CliClient>(scheduler_->address());
  }

  void TearDown() override {
    if (scheduler_) scheduler_->Signal(SIGTERM);
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::ChildProcess> api_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::CliClient> cli_;
};

TEST_F(KubernetesObjectsTest, AreStoredAsYamlThatRecreatesThemAndNeverLogged) {
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "dx", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason() << out;
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  ASSERT_EQ(detail.artifacts_size(), 1) << detail.ShortDebugString();
  const v1::Artifact& objects = detail.artifacts(0);
  EXPECT_EQ(objects.target(), "k8s/objects");
  EXPECT_EQ(objects.kind(), v1::ARTIFACT_KUBERNETES_OBJECTS);
  EXPECT_EQ(fs::path(objects.path()).filename(), "k8s-objects.yaml.zst");

  std::string yaml;
  ASSERT_EQ(RunCommand({"zstd", "-dc", dir_ / ("data/store/" + objects.path())},
                       &yaml),
            0)
      << yaml;
  // What re-creates them, whole: the Secret's data, the ConfigMap's
  // (strings stay strings), the Helm release record.
  for (const char* kept :
       {"\"name\": \"dx-core-ldap\"", kSecretBase64, "\"type\": \"Opaque\"",
        "\"namespace\": \"dx-prod\"", "\"replicas\": \"1\"",
        "\"enabled\": \"true\"", "sh.helm.release.v1.dx.v7",
        "\"type\": \"helm.sh/release.v1\"", "meta.helm.sh/release-name"}) {
    EXPECT_NE(yaml.find(kept), std::string::npos) << kept << "\n" << yaml;
  }
  // Nothing the server sets, no service-account token.
  for (const char* left_out :
       {"uid", "resourceVersion", "creationTimestamp", "managedFields",
        "ownerReferences", "dx-token-x7k2p", kServiceAccountToken}) {
    EXPECT_EQ(yaml.find(left_out), std::string::npos) << left_out << "\n"
                                                      << yaml;
  }
  // Three documents a YAML reader (kubectl's) takes as they are.
  std::string parsed;
  ASSERT_EQ(
      RunCommand({"sh", "-c",
                  "zstd -dc '" + (dir_ / ("data/store/" + objects.path())) +
                      "' | python3 -c 'import sys, yaml\n"
                      "for d in yaml.safe_load_all(sys.stdin):\n"
                      "    print(d[\"apiVersion\"], d[\"kind\"], "
                      "d[\"metadata\"][\"name\"], sorted(d.get(\"data\", "
                      "{})))'"},
                 &parsed),
      0)
      << parsed;
  EXPECT_EQ(parsed,
            "v1 Secret dx-core-ldap ['bindPassword', 'bindUser']\n"
            "v1 ConfigMap dx-core ['dx.properties', 'enabled', 'replicas']\n"
            "v1 Secret sh.helm.release.v1.dx.v7 ['release']\n");

  // Asked for with the token, by label selector; no secret in any log.
  const std::string requests = ReadFile(dir_ / "requests.log");
  EXPECT_EQ(std::count(requests.begin(), requests.end(), '\n'), 3) << requests;
  EXPECT_EQ(requests.find("\"authorized\": false"), std::string::npos)
      << requests;
  EXPECT_NE(requests.find("labelSelector=owner%3Dhelm%2Cname%3Ddx%2C"
                          "status%3Ddeployed"),
            std::string::npos)
      << requests;
  ASSERT_EQ(cli_->Run({"--json", "show", set.id()}, &out), 0) << out;
  for (const std::string& log : {scheduler_->Output(), out}) {
    for (const char* secret : {kSecretBase64, kSecretPlain, kApiToken}) {
      EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in\n"
                                                     << log;
    }
  }

  // verify --deep reads it whole; an export says how to re-create them;
  // a restore does not do it yet, and says so.
  ASSERT_EQ(cli_->Run({"verify", set.id(), "--deep"}, &out), 0) << out;
  ASSERT_EQ(cli_->Run({"export", set.id(), "--to", dir_ / "export"}, &out), 0)
      << out;
  EXPECT_NE(ReadFile(dir_ / ("export/" + set.id() + "/RESTORE.txt"))
                .find("zstd -dc k8s-objects.yaml.zst | kubectl create -f -"),
            std::string::npos);
  EXPECT_NE(cli_->Run({"restore", set.id(), "--target", "k8s/objects"}, &out),
            0);
  EXPECT_NE(out.find("re-creating Kubernetes objects needs --kubernetes"),
            std::string::npos)
      << out;
}

// What a restore asks the API: each object POSTed (as YAML) into the
// destination namespace, one that exists left as it is and named; a clone
// into another namespace rewrites theirs, and one into another release
// leaves the Helm record out.
TEST_F(KubernetesObjectsTest, ARestoreCreatesWhatTheNamespaceLacks) {
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "dx", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason() << out;
  auto posts = [this] {
    std::string posted;
    EXPECT_EQ(RunCommand({"python3", "-c",
                          "import json, sys\n"
                          "for line in open(sys.argv[1]):\n"
                          "    r = json.loads(line)\n"
                          "    if r['method'] != 'POST': continue\n"
                          "    o = r['object']\n"
                          "    print(r['path'], r['content_type'], o['kind'], "
                          "o['metadata']['namespace'], o['metadata']['name'], "
                          "sorted(o.get('data', {}).items()))",
                          dir_ / "requests.log"},
                         &posted),
              0)
        << posted;
    std::filesystem::remove(dir_ / "requests.log");
    return posted;
  };
  posts();  // the capture's GETs
  ASSERT_EQ(cli_->Run({"restore", set.id(), "--kubernetes"}, &out), 0) << out;
  EXPECT_EQ(
      posts(),
      "/api/v1/namespaces/dx-prod/secrets application/yaml Secret dx-prod "
      "dx-core-ldap [('bindPassword', 'bGRhcC1zZWNyZXQtNDcxMQ=='), "
      "('bindUser', 'Y249YWRtaW4=')]\n"
      "/api/v1/namespaces/dx-prod/configmaps application/yaml ConfigMap "
      "dx-prod dx-core [('dx.properties', 'contextRoot=wps\\nport=10039\\n'), "
      "('enabled', 'true'), ('replicas', '1')]\n"
      "/api/v1/namespaces/dx-prod/secrets application/yaml Secret dx-prod "
      "sh.helm.release.v1.dx.v7 [('release', "
      "'SDRzSUFBQUFBQUFDLzZ0V1NzN1BTMVd5VWpMUFR5OVdBd0JrOEhhckRBQUFBQT09')]\n");
  const std::string logged = scheduler_->Output();
  EXPECT_NE(logged.find("k8s/objects: created 2 objects in dx-prod; left as "
                        "they are (they exist): configmaps/dx-core"),
            std::string::npos)
      << logged;
  EXPECT_EQ(logged.find(kSecretBase64), std::string::npos) << logged;

  // A clone into another namespace and release.
  ASSERT_EQ(cli_->Run({"restore", set.id(), "--kubernetes", "--clone",
                       "--to-namespace", "dx-test", "--to-release", "dxt"},
                      &out),
            0)
      << out;
  const std::string cloned = posts();
  EXPECT_NE(cloned.find("/api/v1/namespaces/dx-test/secrets application/yaml "
                        "Secret dx-test dx-core-ldap"),
            std::string::npos)
      << cloned;
  EXPECT_EQ(cloned.find("dx-prod"), std::string::npos) << cloned;
  EXPECT_EQ(cloned.find("sh.helm.release"), std::string::npos)
      << "the Helm record names the release it came from: " << cloned;
}

TEST_F(KubernetesObjectsTest, ARefusedTokenOrNoObjectsFailTheMemberSayingWhy) {
  std::string out;
  v1::BackupSet set = cli_->Backup("dx-prod", "unlabelled", 1, &out);
  EXPECT_EQ(set.status(), v1::SET_FAILED);
  EXPECT_NE(set.reason().find("k8s/objects: "), std::string::npos)
      << set.reason();
  EXPECT_NE(set.reason().find("no Secret or ConfigMap of dx-prod/unlabelled "
                              "matches app.kubernetes.io/instance=unlabelled"),
            std::string::npos)
      << set.reason();

  WriteFile(dir_ / "token", "a-token-the-server-does-not-take\n");
  set = cli_->Backup("dx-prod", "dx", 1, &out);
  EXPECT_EQ(set.status(), v1::SET_FAILED);
  EXPECT_NE(set.reason().find("HTTP 401"), std::string::npos) << set.reason();
  EXPECT_NE(set.reason().find("granted get and list on secrets and "
                              "configmaps"),
            std::string::npos)
      << set.reason();
  EXPECT_EQ(set.reason().find("a-token-the-server"), std::string::npos)
      << "the token is never shown";
}

}  // namespace
}  // namespace dxbackup
