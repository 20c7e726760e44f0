// scale_to_one, end to end against a recorded API (HCL's advice: back up
// with one core instance): a real scheduler scales the core StatefulSet's
// scale subresource to one replica before the pre-hooks, waits until its
// status says one pod is left, runs the set on <release>-core-0 alone, and
// scales back to the replicas it had after the post-hooks; an API that
// refuses the patch stops nothing and captures nothing.
// (No cluster runs here: the README says what was not seen against a real
// API server.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "dxbackup/v1/admin.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

using testing::ReadFile;
using testing::RunCommand;
using testing::WriteFile;

class ScaleToOneTest : public ::testing::Test {
 protected:
  // Starts the recorded API server (`flags` added), the scheduler and the
  // core agents dx-core-0 and dx-core-1, each with a volume of its own.
  // With `pre_hook_waits`, the pre-hook, once it noted itself, waits until
  // dir/go (a FIFO) is opened for writing (LetThePreHookGo, which removes
  // it: later pre-hooks do not wait).
  void Start(std::vector<std::string> flags, bool pre_hook_waits = false) {
    std::string out;
    ASSERT_EQ(RunCommand({testing::SourceDir() + "/tools/make-test-certs.sh",
                          dir_ / "certs"},
                         &out),
              0)
        << out;
    WriteFile(dir_ / "token", "recorded-api-token-9f31\n");
    const std::string recorded = testing::SourceDir() + "/tests/kubernetes";
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     recorded + "/recorded_api_server.py",
                                     "--cert",
                                     dir_ / "certs/server.pem",
                                     "--key",
                                     dir_ / "certs/server.key",
                                     "--token",
                                     dir_ / "token",
                                     "--answers",
                                     recorded + "/answers.json",
                                     "--requests",
                                     dir_ / "requests.log",
                                     "--scale",
                                     "dx-prod/dx-core=3"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    api_ = std::make_unique<testing::ChildProcess>(argv, dir_ / "api.log");
    std::smatch m;
    const std::string line = api_->WaitForLine("listening on port");
    ASSERT_TRUE(std::regex_search(line, m, std::regex("port (\\d+)")))
        << api_->Output();
    const std::string note =
        "echo \\\"$0 $DXBACKUP_POD\\\" >> " + dir_ / "events";
    const std::string wait = pre_hook_waits ? "; if [ -p " + dir_ / "go" +
                                                  " ]; then read x < " +
                                                  dir_ / "go" + "; fi"
                                            : std::string();
    if (pre_hook_waits) ASSERT_EQ(mkfifo((dir_ / "go").c_str(), 0600), 0);
    WriteFile(dir_ / "scheduler.yaml",
              "kubernetes_api:\n  server: https://localhost:" + m[1].str() +
                  "\n  token_file: " + dir_ / "token" +
                  "\n  ca_file: " + dir_ / "certs/ca.pem" +
                  "\ndeployments:\n"
                  "  - namespace: dx-prod\n    release: dx\n"
                  "    scale_to_one: true\n    hooks:\n"
                  "      - {name: stop, component: core, phase: pre, "
                  "command: [sh, -c, \"" +
                  note + wait +
                  "\", pre]}\n"
                  "      - {name: start, component: core, phase: post, "
                  "command: [sh, -c, \"" +
                  note + "\", post]}\n");
    scheduler_ = std::make_unique<testing::SchedulerProcess>(
        testing::SchedulerIn(dir_.path()));
    ASSERT_FALSE(scheduler_->address().empty()) << scheduler_->Output();
    cli_ = std::make_unique<testing::CliClient>(scheduler_->address());
    for (const std::string pod : {"dx-core-0", "dx-core-1"}) {
      WriteFile(dir_ / (pod + "/log/trace.log"), pod);
      agents_.push_back(
          std::make_unique<testing::AgentProcess>(testing::AgentOf(
              scheduler_->address(), "dx-prod", "dx", pod, "core",
              {"log=" + dir_ / (pod + "/log")}, dir_ / (pod + ".log"))));
      ASSERT_TRUE(agents_.back()->registered()) << agents_.back()->Output();
    }
  }

  // A `dxbackup backup` of dx-prod/dx, returned once its pre-hook (which
  // must wait: Start's pre_hook_waits) noted itself; null if it never did.
  std::unique_ptr<testing::ChildProcess> BackupUntilThePreHookWaits() {
    testing::ChildProcess events({"tail", "-F", dir_ / "events"},
                                 dir_ / "tail.log");
    auto backup = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{testing::BinDir() + "/dxbackup", "--server",
                                 scheduler_->address(), "--insecure-loopback",
                                 "backup", "--namespace", "dx-prod",
                                 "--release", "dx"},
        dir_ / "backup.log");
    if (events.WaitForLine("pre dx-core-0").empty()) {
      ADD_FAILURE() << events.Output() << backup->Output();
      return nullptr;
    }
    return backup;
  }

  // Lets a waiting pre-hook go (nothing when none waits).
  void LetThePreHookGo() {
    const int fd = open((dir_ / "go").c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) close(fd);
    unlink((dir_ / "go").c_str());
  }

  // Stops the scheduler with `signal` and starts another over its data
  // and config, logging to dir/<log>.
  void RestartScheduler(int signal, const std::string& log) {
    const testing::SchedulerOptions options = scheduler_->Restarted(dir_ / log);
    scheduler_->Signal(signal);
    scheduler_->Wait();
    scheduler_ = std::make_unique<testing::SchedulerProcess>(options);
    ASSERT_FALSE(scheduler_->address().empty()) << scheduler_->Output();
  }

  void TearDown() override {
    LetThePreHookGo();
    for (auto& agent : agents_) agent->Signal(SIGTERM);
    if (scheduler_) scheduler_->Signal(SIGTERM);
  }

  // The scale requests the API server saw: "GET" or "PATCH <replicas>
  // <content type>", in order.
  std::vector<std::string> ScaleRequests() {
    std::vector<std::string> out;
    for (absl::string_view line :
         absl::StrSplit(ReadFile(dir_ / "requests.log"), '\n')) {
      if (line.find("/statefulsets/dx-core/scale") == absl::string_view::npos)
        continue;
      const std::string text(line);
      std::smatch method;
      if (!std::regex_search(text, method,
                             std::regex(R"re("method": "([A-Z]+)")re"))) {
        ADD_FAILURE() << "no method in " << text;
        continue;
      }
      if (method[1] != "PATCH") {
        out.push_back(method[1]);
        continue;
      }
      std::smatch replicas, type;
      std::regex_search(
          text, replicas,
          std::regex(R"re("patch": \{"spec": \{"replicas": (\d+)\}\})re"));
      std::regex_search(text, type,
                        std::regex(R"re("content_type": "([^"]*)")re"));
      out.push_back("PATCH " + replicas[1].str() + " " + type[1].str());
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::ChildProcess> api_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::CliClient> cli_;
  std::vector<std::unique_ptr<testing::AgentProcess>> agents_;
};

TEST_F(ScaleToOneTest, TheSetRunsOnCoreZeroWhileTheOthersAreScaledAway) {
  Start({"--scale-lag", "1"});
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "dx", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason() << out;
  // Down to one, waited for (the first look still saw 3 pods), the window
  // on dx-core-0 alone, then back to 3.
  EXPECT_EQ(ScaleRequests(),
            (std::vector<std::string>{
                "GET", "PATCH 1 application/merge-patch+json", "GET", "GET",
                "PATCH 3 application/merge-patch+json"}));
  EXPECT_EQ(ReadFile(dir_ / "events"), "pre dx-core-0\npost dx-core-0\n");
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  std::vector<std::string> targets;
  for (const v1::Artifact& a : detail.artifacts())
    targets.push_back(a.target());
  // dx-core-0's volume keeps the name it has without scale_to_one (bases
  // still match); dx-core-1's is left out, saying so.
  EXPECT_EQ(targets, std::vector<std::string>{"dx-core-0/log"});
  std::string warnings;
  for (const std::string& w : set.warnings()) warnings += w + "\n";
  EXPECT_NE(warnings.find("dx-core-1's volume log is not in the set: "
                          "scale_to_one stops that pod for the window"),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("dx-core was scaled from 3 replicas to one"),
            std::string::npos)
      << warnings;

  // Scaled back by the set itself: a restart has nothing to undo.
  const std::vector<std::string> before = ScaleRequests();
  RestartScheduler(SIGTERM, "scheduler-2.log");
  EXPECT_EQ(ScaleRequests(), before);
}

TEST_F(ScaleToOneTest, ASchedulerKilledInTheWindowScalesBackWhenItStarts) {
  Start({}, /*pre_hook_waits=*/true);
  // Inside the window: scaled down, the pre-hook waiting.
  auto backup = BackupUntilThePreHookWaits();
  ASSERT_TRUE(backup);
  EXPECT_EQ(ScaleRequests(),
            (std::vector<std::string>{
                "GET", "PATCH 1 application/merge-patch+json", "GET"}));
  RestartScheduler(SIGKILL, "scheduler-2.log");
  EXPECT_EQ(
      ScaleRequests(),
      (std::vector<std::string>{"GET", "PATCH 1 application/merge-patch+json",
                                "GET", "PATCH 3 application/merge-patch+json"}))
      << "the new scheduler puts back the replicas the set took away";
  EXPECT_NE(
      scheduler_->Output().find("scaled dx-core in dx-prod back to 3 replicas"),
      std::string::npos)
      << scheduler_->Output();
  // Once only.
  RestartScheduler(SIGTERM, "scheduler-3.log");
  EXPECT_EQ(ScaleRequests().size(), 4u);
  LetThePreHookGo();
  backup->Wait();
}

// The scale-back at start is refused (the API's second PATCH): the record
// stays, and the next set — which finds one replica and has nothing to
// scale down — puts back the replicas the first one took away.
TEST_F(ScaleToOneTest, TheNextSetPutsBackWhatAnUndoneScaleDownTookAway) {
  Start({"--deny-scale-patch", "2"}, /*pre_hook_waits=*/true);
  auto backup = BackupUntilThePreHookWaits();
  ASSERT_TRUE(backup);
  RestartScheduler(SIGKILL, "scheduler-2.log");
  EXPECT_NE(scheduler_->Output().find("cannot be scaled back now"),
            std::string::npos)
      << scheduler_->Output();
  LetThePreHookGo();
  backup->Wait();
  for (auto& agent : agents_) {
    ASSERT_NE(agent->WaitForNthLine("registered with the scheduler", 2), "")
        << agent->Output();
  }
  std::string out;
  const v1::BackupSet set = testing::CliClient(scheduler_->address())
                                .Backup("dx-prod", "dx", 0, &out);
  ASSERT_EQ(set.status(), v1::SET_COMPLETE) << set.reason() << out;
  EXPECT_EQ(ScaleRequests(),
            (std::vector<std::string>{
                "GET", "PATCH 1 application/merge-patch+json", "GET",
                "PATCH 3 application/merge-patch+json",  // refused
                "GET", "PATCH 3 application/merge-patch+json"}));
  // Nothing is left to undo.
  RestartScheduler(SIGTERM, "scheduler-3.log");
  EXPECT_EQ(ScaleRequests().size(), 6u);
}

TEST_F(ScaleToOneTest, ARefusedScaleDownStopsAndCapturesNothing) {
  Start({"--deny-scale"});
  std::string out;
  const v1::BackupSet set = cli_->Backup("dx-prod", "dx", 1, &out);
  ASSERT_EQ(set.status(), v1::SET_FAILED) << out;
  EXPECT_NE(set.reason().find("k8s/scale-down: Kubernetes API"),
            std::string::npos)
      << set.reason();
  EXPECT_NE(set.reason().find("cannot patch resource \"statefulsets/scale\""),
            std::string::npos)
      << set.reason();
  EXPECT_NE(set.reason().find("granted get and patch on statefulsets/scale "
                              "of dx-core"),
            std::string::npos)
      << set.reason();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "events"))
      << "no hook ran: nothing was stopped";
  const v1::SetDetail detail = cli_->Json<v1::SetDetail>({"show", set.id()});
  EXPECT_EQ(detail.artifacts_size(), 0);
  // Nothing was changed (a look after the refusal shows it), so nothing
  // is scaled back.
  EXPECT_EQ(ScaleRequests(),
            (std::vector<std::string>{
                "GET", "PATCH 1 application/merge-patch+json", "GET"}));
}

}  // namespace
}  // namespace dxbackup
