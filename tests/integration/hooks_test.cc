// The quiesce hooks' rules, each seen in what the hooks themselves record:
// a real scheduler and real agents on loopback, hooks that append
// "<hook> <start|end> <ns since the epoch>" to a file as they run.
//
// Rules (README, Hooks): every pre-hook ends before any capture; every
// post-hook runs after all captures, also after a failed capture or a
// failed pre-hook; a failed fail_set pre-hook skips the captures; a failed
// `continue` hook leaves a warning on a complete set; a hook is killed after
// its timeout; a cancelled set stops its captures (the scheduler's and
// the agents' commands killed) and still runs its post-hooks; `shell:
// true` runs the command as one shell line; the
// quiesce window spans the first pre-hook's start to the last post-hook's
// end and warns past 80% of quiesce_limit_seconds.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include "dxbackup/v1/admin.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::RunCommand;
using testing::WriteFile;

const std::string kBin = DXBACKUP_BIN_DIR;

// One recorded hook event.
struct HookEvent {
  std::string hook;
  std::string what;  // "start" or "end"
  double seconds;    // since the epoch
};

class HooksTest : public ::testing::Test {
 protected:
  // A shell line that records `hook`'s start, does `body`, records its end.
  std::string Recorded(const std::string& release, const std::string& hook,
                       const std::string& body) {
    const std::string record = dir_ / (release + ".record");
    return "echo " + hook + " start $(date +%s%N) >> " + record + "; " + body +
           "; rc=$?; echo " + hook + " end $(date +%s%N) >> " + record +
           "; exit $rc";
  }

  // A hook of a deployment's core agents, as config YAML.
  std::string Hook(const std::string& release, const std::string& name,
                   const std::string& phase, const std::string& body,
                   const std::string& extra = "") {
    return "      - {name: " + name + ", component: core, phase: " + phase +
           ", shell: true, command: [\"" + Recorded(release, name, body) +
           "\"]" + extra + "}\n";
  }

  void SetUp() override {
    const auto deployment = [](const std::string& release) {
      return "  - namespace: hk\n    release: " + release + "\n    hooks:\n";
    };
    std::string config =
        "quiesce_limit_seconds: 2\n"
        "deployments:\n" +
        // Both hooks succeed; the pre-hook holds the window open 2 s.
        deployment("ok") + Hook("ok", "stop", "pre", "sleep 2") +
        Hook("ok", "start", "post", "true") +
        // A fail_set pre-hook fails: captures skipped, post-hook runs.
        deployment("prefail") + Hook("prefail", "stop", "pre", "(exit 3)") +
        Hook("prefail", "start", "post", "true") +
        // A `continue` pre-hook fails: the set completes, with a warning.
        deployment("cont") +
        Hook("cont", "stop", "pre", "(exit 4)", ", on_failure: continue") +
        Hook("cont", "start", "post", "true") +
        // A pre-hook outlives its timeout: killed, the set fails.
        deployment("slow") +
        Hook("slow", "stop", "pre", "sleep 120", ", timeout_seconds: 1") +
        Hook("slow", "start", "post", "true") +
        // The capture fails (its volume is gone): the post-hook still runs.
        deployment("capfail") + Hook("capfail", "stop", "pre", "true") +
        Hook("capfail", "start", "post", "true");
    // Cancelled mid-capture: two dumps that never end on their own, one
    // run by the scheduler, one in the core agent's pod; each writes its
    // process id first.
    const auto endless = [this](const std::string& name) {
      return "      - name: " + name +
             "\n        command:\n"
             "          dump: [sh, -c, \"echo $$ > " +
             dir_ / (name + ".pid") +
             "; exec sleep 1000\"]\n"
             "          restore: [cat]\n";
    };
    config += deployment("cancel") + Hook("cancel", "stop", "pre", "true") +
              Hook("cancel", "start", "post", "true") + "    databases:\n" +
              endless("own") + endless("inagent") +
              "          component: core\n";
    // A restore cancelled while its database's restore command runs.
    config += deployment("cancelr") + Hook("cancelr", "stop", "pre", "true") +
              Hook("cancelr", "start", "post", "true") +
              "    databases:\n"
              "      - name: slow\n        command:\n"
              "          dump: [echo, rows]\n"
              "          restore: [sh, -c, \"echo $$ > " +
              dir_ / "restore.pid" + "; exec sleep 1000\"]\n";
    // `shell: true` means a shell line: a redirection only a shell does.
    config += deployment("shell") +
              "      - {name: shell-line, component: core, phase: pre, "
              "shell: true, command: [\"echo from-a-shell > " +
              dir_ / "shell.out" +
              "\"]}\n"
              "      - {name: argv, component: core, phase: post, command: "
              "[\"/bin/echo\", \"not\", \">\", \"" +
              dir_ / "argv.out" + "\"]}\n";
    WriteFile(dir_ / "scheduler.yaml", config);
    scheduler_ = std::make_unique<testing::SchedulerProcess>(
        testing::SchedulerIn(dir_.path()));
    address_ = scheduler_->address();
    ASSERT_FALSE(address_.empty()) << scheduler_->Output();
    cli_ = std::make_unique<testing::CliClient>(address_);
  }

  void TearDown() override {
    for (auto& [release, agent] : agents_) agent->Signal(SIGTERM);
    if (scheduler_) scheduler_->Signal(SIGTERM);
  }

  // Starts the core agent of `release` with one volume; its path.
  std::string StartAgent(const std::string& release) {
    const std::string volume = dir_ / (release + "-volume");
    WriteFile(volume + "/data.txt", "quiesced " + release);
    auto agent = std::make_unique<testing::AgentProcess>(
        testing::AgentOf(address_, "hk", release, release + "-core-0", "core",
                         {"data=" + volume}, dir_ / (release + "-agent.log")));
    EXPECT_TRUE(agent->registered()) << agent->Output();
    agents_[release] = std::move(agent);
    return volume;
  }

  // Takes a set of hk/<release>; the CLI's exit code, the set as recorded.
  int Backup(const std::string& release, v1::SetDetail* set) {
    std::string out;
    const int rc =
        cli_->Run({"backup", "--namespace", "hk", "--release", release}, &out);
    std::smatch m;
    EXPECT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) "))) << out;
    EXPECT_TRUE(cli_->JsonInto({"show", m[1]}, set));
    return rc;
  }

  std::vector<HookEvent> Record(const std::string& release) {
    std::vector<HookEvent> events;
    std::istringstream in(testing::ReadFile(dir_ / (release + ".record")));
    HookEvent e;
    double ns;
    while (in >> e.hook >> e.what >> ns) {
      e.seconds = ns / 1e9;
      events.push_back(e);
    }
    return events;
  }

  const v1::Job* JobOf(const v1::SetDetail& set, const std::string& prefix) {
    for (const v1::Job& j : set.jobs()) {
      if (j.target().rfind(prefix, 0) == 0) return &j;
    }
    ADD_FAILURE() << "no job " << prefix << " in set " << set.set().id();
    return nullptr;
  }

  testing::TempDir dir_;
  std::string address_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::CliClient> cli_;
  std::map<std::string, std::unique_ptr<testing::AgentProcess>> agents_;
};

TEST_F(HooksTest, TheWindowSpansTheHooksAndWarnsNearTheLimit) {
  StartAgent("ok");
  v1::SetDetail set;
  ASSERT_EQ(Backup("ok", &set), 0);
  EXPECT_EQ(set.set().status(), v1::SET_COMPLETE);
  const std::vector<HookEvent> events = Record("ok");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].hook + " " + events[0].what, "stop start");
  EXPECT_EQ(events[3].hook + " " + events[3].what, "start end");
  // The capture ran between the pre-hook's end and the post-hook's start.
  const v1::Job* capture = JobOf(set, "core/data");
  ASSERT_NE(capture, nullptr);
  EXPECT_GE(capture->started_unix(), std::floor(events[1].seconds));
  EXPECT_LE(capture->finished_unix(), std::ceil(events[2].seconds));
  // The window holds both hooks: at least from the first start to the
  // last end (the pre-hook alone took 2 s).
  const double hooks_span = events[3].seconds - events[0].seconds;
  EXPECT_GE(set.set().quiesce_seconds(), std::floor(hooks_span));
  EXPECT_GE(set.set().quiesce_seconds(), 2);
  // 2 s is past 80% of quiesce_limit_seconds: 2.
  ASSERT_EQ(set.set().warnings_size(), 1);
  EXPECT_NE(set.set().warnings(0).find("quiesce window took"),
            std::string::npos);
}

TEST_F(HooksTest, AFailedPreHookSkipsTheCapturesAndThePostHookStillRuns) {
  StartAgent("prefail");
  v1::SetDetail set;
  EXPECT_EQ(Backup("prefail", &set), 1);
  EXPECT_EQ(set.set().status(), v1::SET_FAILED);
  const v1::Job* capture = JobOf(set, "core/data");
  ASSERT_NE(capture, nullptr);
  EXPECT_EQ(capture->status(), v1::JOB_FAILED);
  EXPECT_NE(capture->error().find("skipped"), std::string::npos)
      << capture->error();
  EXPECT_EQ(capture->error_code(), "FAILED_PRECONDITION");
  EXPECT_EQ(set.artifacts_size(), 0) << "nothing was captured";
  const std::vector<HookEvent> events = Record("prefail");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].hook + " " + events[2].what, "start start")
      << "the post-hook ran after the failed pre-hook";
}

TEST_F(HooksTest, AFailedContinueHookLeavesAWarningOnACompleteSet) {
  StartAgent("cont");
  v1::SetDetail set;
  EXPECT_EQ(Backup("cont", &set), 0);
  EXPECT_EQ(set.set().status(), v1::SET_COMPLETE);
  EXPECT_EQ(set.artifacts_size(), 1);
  bool warned = false;
  for (const std::string& w : set.set().warnings()) {
    warned = warned || w.find("pre-hook/stop@cont-core-0 failed") == 0;
  }
  EXPECT_TRUE(warned) << set.DebugString();
  EXPECT_EQ(Record("cont").size(), 4u);
}

TEST_F(HooksTest, AHookIsKilledAfterItsTimeout) {
  StartAgent("slow");
  v1::SetDetail set;
  EXPECT_EQ(Backup("slow", &set), 1);
  const v1::Job* pre = JobOf(set, "pre-hook/stop");
  ASSERT_NE(pre, nullptr);
  EXPECT_EQ(pre->status(), v1::JOB_FAILED);
  EXPECT_NE(pre->error().find("timed out after 1 s"), std::string::npos)
      << pre->error();
  // The agent's status code travels to the record and to the CLI's table.
  EXPECT_EQ(pre->error_code(), "DEADLINE_EXCEEDED");
  std::string shown;
  ASSERT_EQ(cli_->Run({"show", set.set().id()}, &shown), 0) << shown;
  EXPECT_NE(shown.find("DEADLINE_EXCEEDED: hook stop timed out"),
            std::string::npos)
      << shown;
  const std::vector<HookEvent> events = Record("slow");
  // The killed pre-hook recorded its start only; the post-hook ran whole.
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].hook + " " + events[0].what, "stop start");
  EXPECT_EQ(events[1].hook + " " + events[1].what, "start start");
  EXPECT_LT(events[1].seconds - events[0].seconds, 120)
      << "the post-hook did not wait for the 120 s sleep";
  // The agent's timeout reached the hook's child too (a shell's `sleep`
  // held its output open, and the hook with it, before hooks had a
  // process group of their own).
  EXPECT_LT(set.set().finished_unix() - set.set().started_unix(), 120);
}

TEST_F(HooksTest, AFailedCaptureStillRunsThePostHook) {
  const std::string volume = StartAgent("capfail");
  fs::remove_all(volume);  // registered, then the mount went away
  v1::SetDetail set;
  EXPECT_EQ(Backup("capfail", &set), 1);
  const v1::Job* capture = JobOf(set, "core/data");
  ASSERT_NE(capture, nullptr);
  EXPECT_EQ(capture->status(), v1::JOB_FAILED);
  const std::vector<HookEvent> events = Record("capfail");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].hook + " " + events[3].what, "start end");
}

// The process whose id the file at `path` holds, once the file is whole;
// 0 when it did not come within a minute.
pid_t PidFrom(const std::string& path) {
  for (int i = 0; i < 6000; ++i) {
    const std::string text = testing::ReadFile(path);
    if (!text.empty() && text.back() == '\n') return std::stoi(text);
    usleep(10000);  // waiting for the file, not for time to pass
  }
  return 0;
}

// Waits (up to a minute) for process `pid` to be gone; false if it stays.
bool Gone(pid_t pid) {
  for (int i = 0; i < 6000; ++i) {
    if (kill(pid, 0) != 0 && errno == ESRCH) return true;
    // A zombie not yet reaped by its parent counts as gone too.
    const std::string stat =
        testing::ReadFile("/proc/" + std::to_string(pid) + "/stat");
    if (stat.find(") Z ") != std::string::npos) return true;
    usleep(10000);
  }
  return false;
}

TEST_F(HooksTest, CancelMidCaptureStopsTheDumpsAndStillRunsThePostHook) {
  StartAgent("cancel");
  ChildProcess backup(
      {kBin + "/dxbackup", "--server", address_, "--insecure-loopback",
       "backup", "--namespace", "hk", "--release", "cancel"},
      dir_ / "backup.log");
  // Both dumps run (the pre-hook ended before them).
  const pid_t own = PidFrom(dir_ / "own.pid");
  const pid_t in_agent = PidFrom(dir_ / "inagent.pid");
  ASSERT_GT(own, 0);
  ASSERT_GT(in_agent, 0);
  v1::ListSetsResponse running;
  ASSERT_TRUE(cli_->JsonInto(
      {"sets", "--namespace", "hk", "--release", "cancel"}, &running));
  ASSERT_EQ(running.sets_size(), 1);
  const std::string id = running.sets(0).id();

  std::string out;
  ASSERT_EQ(cli_->Run({"cancel", id, "--reason", "maintenance window"}, &out),
            0)
      << out;
  EXPECT_EQ(backup.Wait(), 1) << backup.Output();

  v1::SetDetail set;
  ASSERT_TRUE(cli_->JsonInto({"show", id}, &set));
  EXPECT_EQ(set.set().status(), v1::SET_FAILED);
  // Who cancelled and why, once; not a line per cancelled member.
  EXPECT_EQ(set.set().reason(),
            "cancelled by the operator: maintenance window");
  for (const char* member : {"db/own", "db/inagent"}) {
    const v1::Job* dump = JobOf(set, member);
    ASSERT_NE(dump, nullptr);
    EXPECT_EQ(dump->status(), v1::JOB_FAILED);
    EXPECT_EQ(dump->error_code(), "CANCELLED") << dump->error();
  }
  // The post-hook ran after the cancel, so DX came back up.
  const std::vector<HookEvent> events = Record("cancel");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].hook + " " + events[3].what, "start end");
  // Neither dump is left running: the scheduler's was killed with its
  // job, the agent's on the CancelJob it was sent.
  EXPECT_TRUE(Gone(own));
  EXPECT_TRUE(Gone(in_agent));
  // Nothing of the set's is left to cancel.
  EXPECT_NE(cli_->Run({"cancel", id}, &out), 0);
  EXPECT_NE(out.find("is running"), std::string::npos) << out;
}

TEST_F(HooksTest, CancelARestoreStopsItsCommandAndStillRunsThePostHook) {
  StartAgent("cancelr");
  v1::SetDetail set;
  ASSERT_EQ(Backup("cancelr", &set), 0);
  ChildProcess restore({kBin + "/dxbackup", "--server", address_,
                        "--insecure-loopback", "restore", set.set().id()},
                       dir_ / "restore.log");
  // The first line names the restore and how to cancel it.
  const std::string started = restore.WaitForLine(" started; ");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(started, m, std::regex("(restore-\\S+)")))
      << restore.Output();
  const pid_t command = PidFrom(dir_ / "restore.pid");
  ASSERT_GT(command, 0) << restore.Output();

  std::string out;
  ASSERT_EQ(cli_->Run({"cancel", m[1]}, &out), 0) << out;
  EXPECT_EQ(restore.Wait(), 1);
  EXPECT_NE(restore.Output().find("failed: cancelled by the operator"),
            std::string::npos)
      << restore.Output();
  EXPECT_TRUE(Gone(command));
  // The set's four hook events, then the restore's: its post-hook last.
  const std::vector<HookEvent> events = Record("cancelr");
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[7].hook + " " + events[7].what, "start end");
  // The deployment is not left held: a new set of it starts.
  ASSERT_EQ(Backup("cancelr", &set), 0);
}

// A restore elsewhere takes no hold on the deployment, yet reads the set:
// the set is leased while it runs, so `delete` (and retention) leave it
// until the restore ends.
TEST_F(HooksTest, ASetBeingRestoredElsewhereIsNotDeletedUnderTheRestore) {
  StartAgent("cancelr");
  v1::SetDetail set;
  ASSERT_EQ(Backup("cancelr", &set), 0);
  ChildProcess restore(
      {kBin + "/dxbackup", "--server", address_, "--insecure-loopback",
       "restore", set.set().id(), "--database-to", "elsewhere"},
      dir_ / "restore.log");
  const std::string started = restore.WaitForLine(" started; ");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(started, m, std::regex("(restore-\\S+)")))
      << restore.Output();
  ASSERT_GT(PidFrom(dir_ / "restore.pid"), 0) << restore.Output();

  std::string out;
  EXPECT_NE(cli_->Run({"delete", set.set().id()}, &out), 0) << out;
  EXPECT_NE(out.find("is being read by restore " + std::string(m[1]) +
                     "; delete it once that ended"),
            std::string::npos)
      << out;
  ASSERT_EQ(cli_->Run({"cancel", m[1]}, &out), 0) << out;
  EXPECT_EQ(restore.Wait(), 1);
  EXPECT_EQ(cli_->Run({"delete", set.set().id()}, &out), 0)
      << "the restore ended: " << out;
}

TEST_F(HooksTest, ShellTrueRunsALineAndArgvRunsNoShell) {
  StartAgent("shell");
  v1::SetDetail set;
  EXPECT_EQ(Backup("shell", &set), 0);
  EXPECT_EQ(testing::ReadFile(dir_ / "shell.out"), "from-a-shell\n");
  EXPECT_FALSE(fs::exists(dir_ / "argv.out"))
      << "an argv hook's '>' is an argument, not a redirection";
}

}  // namespace
}  // namespace dxbackup
