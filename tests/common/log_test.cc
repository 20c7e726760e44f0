// Log lines as JSON: one object per line, whatever the message holds.
#include "common/log.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

namespace dxbackup::common {
namespace {

// What DXLOG writes to stderr while `log` runs.
template <typename Fn>
std::string CaptureStderr(Fn log) {
  std::fflush(stderr);
  int pipe_fds[2];
  EXPECT_EQ(pipe(pipe_fds), 0);
  const int saved = dup(2);
  dup2(pipe_fds[1], 2);
  log();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(pipe_fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) out.append(buf, n);
  close(pipe_fds[0]);
  return out;
}

TEST(LogTest, JsonLinesCarryAnyMessage) {
  SetLogFormat(LogFormat::kJson);
  const std::string out = CaptureStderr(
      [] { DXLOG(WARNING) << "a \"quoted\" path\nC:\\x caf\xe9 \x01 done"; });
  SetLogFormat(LogFormat::kText);
  ASSERT_EQ(out.back(), '\n');
  ASSERT_EQ(out.find('\n'), out.size() - 1) << "one line: " << out;
  google::protobuf::Struct object;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out, &object).ok())
      << out;
  EXPECT_EQ(object.fields().at("level").string_value(), "warning");
  EXPECT_NE(object.fields().at("source").string_value().find("log_test.cc:"),
            std::string::npos);
  EXPECT_EQ(object.fields().at("message").string_value(),
            "a \"quoted\" path\nC:\\\\x caf\\xE9 \x01 done");
}

TEST(LogTest, ConfigureLoggingTakesTextOrJsonOnly) {
  EXPECT_FALSE(ConfigureLogging("xml"));
  EXPECT_EQ(CaptureStderr([] { DXLOG(INFO) << "x"; }).rfind("I ", 0), 0u)
      << "a refused format changes nothing";
  ASSERT_TRUE(ConfigureLogging("json"));
  EXPECT_EQ(CaptureStderr([] { DXLOG(INFO) << "x"; }).rfind("{\"time\"", 0),
            0u);
  ASSERT_TRUE(ConfigureLogging("text"));
  EXPECT_EQ(CaptureStderr([] { DXLOG(INFO) << "x"; }).rfind("I ", 0), 0u);
}

}  // namespace
}  // namespace dxbackup::common
