#include "common/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace dxbackup::common {
namespace {

TEST(ProcessTest, PassesEnvironmentAndCollectsOutput) {
  auto result = RunProcess(
      {{"sh", "-c", "printf '%s' \"$SECRET\"; echo oops >&2; exit 3"},
       {{"SECRET", "s3cr3t"}}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->stdout_text, "s3cr3t");
  EXPECT_EQ(result->stderr_text, "oops\n");
}

TEST(ProcessTest, StreamsStdout) {
  ProcessSpec spec{{"sh", "-c", "head -c 300000 /dev/zero"}, {}, true};
  auto proc = Subprocess::Start(spec);
  ASSERT_TRUE(proc.ok());
  size_t total = 0;
  char buf[65536];
  ssize_t n;
  while ((n = read((*proc)->stdout_fd(), buf, sizeof buf)) > 0) total += n;
  auto code = (*proc)->Wait();
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(total, 300000u);
}

TEST(ProcessTest, FeedsStdin) {
  ProcessSpec spec{{"wc", "-c"}, {}};
  spec.stream_stdin = true;
  auto proc = Subprocess::Start(spec);
  ASSERT_TRUE(proc.ok());
  const std::string bytes(300000, 'x');  // more than a pipe holds
  ASSERT_TRUE((*proc)->WriteStdin(bytes.data(), bytes.size()).ok());
  (*proc)->CloseStdin();
  ASSERT_EQ(*(*proc)->Wait(), 0);
  EXPECT_EQ((*proc)->stdout_text(), "300000\n");
}

TEST(ProcessTest, AChildThatStopsReadingIsAnErrorNotASignal) {
  ProcessSpec spec{{"true"}, {}};
  spec.stream_stdin = true;
  auto proc = Subprocess::Start(spec);
  ASSERT_TRUE(proc.ok());
  const std::string bytes(1 << 20, 'x');
  absl::Status s;
  for (int i = 0; i < 8 && s.ok(); ++i) {
    s = (*proc)->WriteStdin(bytes.data(), bytes.size());
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*(*proc)->Wait(), 0);
}

TEST(ProcessTest, MissingProgramIsAnError) {
  auto result = RunProcess({{"/nonexistent/dxbackup-tool"}, {}});
  EXPECT_FALSE(result.ok());
}

}  // namespace
}  // namespace dxbackup::common

namespace dxbackup::common {
namespace {

TEST(ProcessTest, ChildrenDoNotInheritBlockedSignals) {
  // Daemons block SIGTERM for their signal thread; what they start must
  // still be stoppable.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  // grep, not sh -c: dash resets the mask itself, bash and most do not.
  auto result = RunProcess({{"grep", "^SigBlk", "/proc/self/status"}, {}});
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->stdout_text, "SigBlk:\t0000000000000000\n");
}

}  // namespace
}  // namespace dxbackup::common
