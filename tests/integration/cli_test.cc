// The dxbackup CLI as a user meets it: help for every verb, a flag of
// another verb refused, bash completion, and the connection found from a
// context of its config file and from the environment, against a real
// scheduler.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

using testing::RunCommand;

// Runs dxbackup with `env` ("NAME=value") added to a clean environment
// (no HOME: no config file unless DXBACKUP_CONFIG says).
int Dxbackup(const std::vector<std::string>& env,
             const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv = {"env", "-i"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(testing::BinDir() + "/dxbackup");
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, out);
}

// The verbs `dxbackup --help` lists.
std::vector<std::string> ListedVerbs() {
  std::string out;
  EXPECT_EQ(Dxbackup({}, {"--help"}, &out), 0) << out;
  std::vector<std::string> verbs;
  bool in_verbs = false;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (line == "verbs:") {
      in_verbs = true;
      continue;
    }
    if (in_verbs && line.empty()) break;
    if (in_verbs) {
      line.remove_prefix(2);
      verbs.emplace_back(line.substr(0, line.find(' ')));
    }
  }
  return verbs;
}

TEST(CliTest, EveryVerbIsListedAndHasItsOwnHelp) {
  const std::vector<std::string> verbs = ListedVerbs();
  for (const std::string verb :
       {"agents", "backup", "policies", "sets", "show", "restore", "verify",
        "export", "prune", "files", "find", "help", "completion"}) {
    EXPECT_NE(std::find(verbs.begin(), verbs.end(), verb), verbs.end())
        << verb << " is not in --help";
  }
  for (const std::string& verb : verbs) {
    std::string help, again;
    ASSERT_EQ(Dxbackup({}, {verb, "--help"}, &help), 0) << help;
    EXPECT_EQ(help.rfind("usage: dxbackup " + verb, 0), 0u) << help;
    ASSERT_EQ(Dxbackup({}, {"help", verb}, &again), 0) << again;
    EXPECT_EQ(again, help);
  }
  std::string restore;
  ASSERT_EQ(Dxbackup({}, {"restore", "--help"}, &restore), 0);
  for (const std::string flag :
       {"--post-hooks-only", "--release-hold", "--database-to NAME", "--mode M",
        "--key-file F"}) {
    EXPECT_NE(restore.find(flag), std::string::npos) << flag << restore;
  }
  EXPECT_EQ(restore.find("--dry-run"), std::string::npos)
      << "prune's flag is not restore's";
  std::string config;
  ASSERT_EQ(Dxbackup({}, {"help", "config"}, &config), 0);
  EXPECT_NE(config.find("current_context"), std::string::npos) << config;
}

TEST(CliTest, AFlagOfAnotherVerbIsRefusedBeforeAnythingRuns) {
  std::string out;
  EXPECT_EQ(
      Dxbackup({}, {"verify", "20261202T000000Z-0001", "--mode", "replace"},
               &out),
      2);
  EXPECT_NE(out.find("--mode is not a flag of verify (`dxbackup verify "
                     "--help` lists its flags)"),
            std::string::npos)
      << out;
  // Found in review: a policy run dropped them silently.
  EXPECT_EQ(Dxbackup({},
                     {"--insecure-loopback", "backup", "--policy", "nightly",
                      "--incremental"},
                     &out),
            2);
  EXPECT_NE(out.find("backup --policy takes its capture options from the "
                     "policy"),
            std::string::npos)
      << out;
  EXPECT_EQ(Dxbackup({}, {"frobnicate"}, &out), 2);
  EXPECT_NE(out.find("unknown verb \"frobnicate\""), std::string::npos) << out;
  EXPECT_EQ(Dxbackup({}, {}, &out), 2) << "no verb: usage, and failure";
  EXPECT_NE(out.find("verbs:"), std::string::npos) << out;
}

// COMPREPLY of the completion script for `words`, the last one being
// completed.
std::string Complete(const std::string& words) {
  std::string out;
  EXPECT_EQ(
      RunCommand({"bash", "-c",
                  "source <(\"$0\" completion bash) && COMP_WORDS=(" + words +
                      ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && "
                      "{ _dxbackup; echo \"${COMPREPLY[*]}\"; }",
                  testing::BinDir() + "/dxbackup"},
                 &out),
      0)
      << out;
  return out;
}

TEST(CliTest, BashCompletesVerbsAndEachVerbsFlags) {
  EXPECT_EQ(Complete("dxbackup res"), "restore\n");
  EXPECT_EQ(Complete("dxbackup ex"), "export\n");
  EXPECT_EQ(Complete("dxbackup restore SET --post"), "--post-hooks-only\n");
  EXPECT_EQ(Complete("dxbackup --json prune --dr"), "--dry-run\n");
  EXPECT_EQ(Complete("dxbackup verify SET --mo"), "\n")
      << "--mode is restore's";
  EXPECT_EQ(Complete("dxbackup help ver"), "verify\n");
  // Found in review: a global flag's value was taken for the verb, and a
  // flag's value was completed with verbs.
  EXPECT_EQ(Complete("dxbackup --context prod backup --na"), "--namespace\n");
  EXPECT_EQ(Complete("dxbackup --server 127.0.0.1 : 7070 backup --na"),
            "--namespace\n");
  EXPECT_EQ(Complete("dxbackup restore SET --key-file --cl"), "\n")
      << "a value (a file name: bash's own completion), not --clone";
}

TEST(CliTest, TheSchedulerIsFoundFromAContextOrTheEnvironment) {
  testing::TempDir dir;
  testing::SchedulerProcess scheduler(
      testing::SchedulerIn(dir.path(), "deployments: []\n"));
  ASSERT_FALSE(scheduler.address().empty()) << scheduler.Output();
  testing::WriteFile(dir / "cli/config.yaml",
                     "current_context: nowhere\n"
                     "contexts:\n"
                     "  - {name: nowhere, server: '127.0.0.1:1', "
                     "insecure_loopback: true}\n"
                     "  - {name: here, server: '" +
                         scheduler.address() + "', insecure_loopback: true}\n");
  const std::string config = "DXBACKUP_CONFIG=" + dir / "cli/config.yaml";
  std::string out;
  ASSERT_EQ(Dxbackup({config}, {"--context", "here", "policies"}, &out), 0)
      << out;
  ASSERT_EQ(Dxbackup({config, "DXBACKUP_CONTEXT=here"}, {"policies"}, &out), 0)
      << out;
  // The current context cannot be reached: exit 3, as for any scheduler
  // that does not answer.
  EXPECT_EQ(Dxbackup({config}, {"policies"}, &out), 3) << out;
  // The environment beats the context, and a flag beats the environment.
  EXPECT_EQ(Dxbackup({config, "DXBACKUP_SERVER=" + scheduler.address()},
                     {"policies"}, &out),
            0)
      << out;
  EXPECT_EQ(
      Dxbackup({config, "DXBACKUP_CONTEXT=here", "DXBACKUP_SERVER=127.0.0.1:1"},
               {"--server", scheduler.address(), "policies"}, &out),
      0)
      << out;
  EXPECT_EQ(Dxbackup({config}, {"--context", "staging", "policies"}, &out), 2);
  EXPECT_NE(out.find("has no context staging; it has nowhere, here"),
            std::string::npos)
      << out;
}

// On a terminal (tmux's), a backup's progress is one line per target,
// redrawn in place; piped, it is a line per change.
TEST(CliTest, OnATerminalProgressIsRedrawnInPlace) {
  testing::TempDir dir;
  testing::SchedulerProcess scheduler(testing::SchedulerIn(
      dir.path(), "deployments:\n  - {namespace: ns, release: tty}\n"));
  ASSERT_FALSE(scheduler.address().empty()) << scheduler.Output();
  for (int i = 0; i < 50; ++i) {
    testing::WriteFile(dir / ("volume/f" + std::to_string(i)),
                       std::string(20000, static_cast<char>('a' + i % 26)));
  }
  testing::AgentProcess agent(
      testing::AgentOf(scheduler.address(), "ns", "tty", "tty-core-0", "core",
                       {"data=" + dir / "volume"}, dir / "agent.log"));
  ASSERT_TRUE(agent.registered()) << agent.Output();

  // The backup runs in a tmux pane; the pane signals `done` when it ended.
  const std::string socket = "dxbackup-cli-test-" + std::to_string(getpid());
  const std::string backup = testing::BinDir() + "/dxbackup --server " +
                             scheduler.address() +
                             " --insecure-loopback backup --namespace ns "
                             "--release tty";
  std::string out;
  ASSERT_EQ(RunCommand({"tmux", "-L", socket, "new-session", "-d", "-x", "150",
                        "-y", "40",
                        backup + "; echo EXIT=$?; tmux -L " + socket +
                            " wait-for -S done; cat"},
                       &out),
            0)
      << out;
  ASSERT_EQ(RunCommand({"tmux", "-L", socket, "wait-for", "done"}, &out), 0)
      << out;
  std::string pane;
  ASSERT_EQ(RunCommand({"tmux", "-L", socket, "capture-pane", "-p"}, &pane), 0)
      << pane;
  RunCommand({"tmux", "-L", socket, "kill-server"}, &out);
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(pane, '\n')) {
    if (absl::StrContains(line, "core/data")) {
      ++lines;
      EXPECT_TRUE(absl::StrContains(line, "succeeded")) << pane;
    }
  }
  EXPECT_EQ(lines, 1) << "one line for the target, redrawn:\n" << pane;
  EXPECT_TRUE(absl::StrContains(pane, "EXIT=0")) << pane;
  EXPECT_TRUE(absl::StrContains(pane, "complete")) << pane;

  // Piped: a line per change, pending to succeeded.
  ASSERT_EQ(RunCommand({"sh", "-c", backup + " | cat"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "core/data: pending")) << out;
  EXPECT_TRUE(absl::StrContains(out, "core/data: succeeded")) << out;
}

}  // namespace
}  // namespace dxbackup
