// A command in the agent's pod, with real processes: what it is given, and
// that it is killed — its whole process group — when its time is up or
// when the session kills all (the connection to the scheduler ended).
#include "agent/command/command_process.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace dxbackup::agent {
namespace {

class CommandProcessTest : public ::testing::Test {
 protected:
  CommandSpec Spec(std::vector<std::string> argv, int timeout_seconds = 0) {
    argv_.Clear();
    for (std::string& a : argv) argv_.Add(std::move(a));
    CommandSpec spec;
    spec.what = "the command of db/jcr";
    spec.owner = "db/jcr";
    spec.argv = &argv_;
    spec.env = &env_;
    spec.env_files = &env_files_;
    spec.stream_stdout = true;
    spec.timeout_seconds = timeout_seconds;
    return spec;
  }

  google::protobuf::RepeatedPtrField<std::string> argv_;
  google::protobuf::Map<std::string, std::string> env_, env_files_;
  RunningCommands running_;
};

TEST_F(CommandProcessTest, GetsItsEnvAndTheFilesItNames) {
  testing::TempDir dir;
  testing::WriteFile(dir / "token", "s3cr3t\n");
  env_["DB"] = "JCRDB";
  env_files_["TOKEN"] = dir / "token";
  auto cmd =
      RunningCommand::Start(Spec({"sh", "-c", "echo \"$DB $TOKEN\" >&2"}),
                            &running_, common::RealTime());
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  absl::StatusOr<int> code = (*cmd)->Wait();
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_EQ((*cmd)->process().stderr_text(), "JCRDB s3cr3t\n");
  EXPECT_EQ((*cmd)->env().at("TOKEN"), "s3cr3t");
  EXPECT_EQ((*cmd)->killed(), "");
}

TEST_F(CommandProcessTest, RefusesAnEmptyCommandOrAnUnreadableFile) {
  EXPECT_EQ(RunningCommand::Start(Spec({}), &running_, common::RealTime())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  env_files_["TOKEN"] = "/nonexistent/token";
  absl::Status s =
      RunningCommand::Start(Spec({"true"}), &running_, common::RealTime())
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("/nonexistent/token (env_files TOKEN of db/jcr)"),
            std::string::npos)
      << s;
}

// A review found that a hung command held its set (or its window) open
// for ever: nothing stopped it.
TEST_F(CommandProcessTest, IsKilledWithWhatItStartedWhenItsTimeIsUp) {
  // A child of the command keeps stdout open too: killing the command
  // alone would leave the reader waiting.
  auto cmd = RunningCommand::Start(Spec({"sh", "-c", "sleep 300 & sleep 300"},
                                        /*timeout_seconds=*/1),
                                   &running_, common::RealTime());
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  char buf[16];
  EXPECT_EQ(read((*cmd)->process().stdout_fd(), buf, sizeof buf), 0)
      << "stdout ends once the group is killed";
  absl::StatusOr<int> code = (*cmd)->Wait();
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + 9);
  EXPECT_EQ((*cmd)->killed(), "timed out after 1 s");
}

TEST_F(CommandProcessTest, KillAllStopsEveryRunningCommand) {
  auto first = RunningCommand::Start(Spec({"sleep", "300"}), &running_,
                                     common::RealTime());
  auto second = RunningCommand::Start(Spec({"sleep", "300"}), &running_,
                                      common::RealTime());
  ASSERT_TRUE(first.ok() && second.ok());
  running_.KillAll("the connection to the scheduler ended");
  for (RunningCommand* cmd : {first->get(), second->get()}) {
    ASSERT_TRUE(cmd->Wait().ok());
    EXPECT_EQ(cmd->killed(), "the connection to the scheduler ended");
  }
  // Until the next connection opens, a command that starts is killed at
  // once: its job was failed with the connection.
  auto late = RunningCommand::Start(Spec({"sleep", "300"}), &running_,
                                    common::RealTime());
  ASSERT_TRUE(late.ok());
  ASSERT_TRUE((*late)->Wait().ok());
  EXPECT_EQ((*late)->killed(), "the connection to the scheduler ended");
  running_.Open();
  auto next =
      RunningCommand::Start(Spec({"true"}), &running_, common::RealTime());
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE((*next)->Wait().ok());
  EXPECT_EQ((*next)->killed(), "");
}

// A review found that a command's leftover process, still holding its
// output, kept the job waiting for ever once the command itself exited.
TEST_F(CommandProcessTest, WhatItLeftRunningGoesWhenItExits) {
  auto cmd =
      RunningCommand::Start(Spec({"sh", "-c", "sleep 300 & echo started"}),
                            &running_, common::RealTime());
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  std::string out;
  char buf[64];
  for (ssize_t n;
       (n = read((*cmd)->process().stdout_fd(), buf, sizeof buf)) > 0;) {
    out.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(out, "started\n");
  absl::StatusOr<int> code = (*cmd)->Wait();
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << "the command itself ended well";
  EXPECT_EQ((*cmd)->killed(), "");
}

}  // namespace
}  // namespace dxbackup::agent
