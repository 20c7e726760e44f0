// Notifications over real HTTP: a real scheduler POSTs to a real webhook
// receiver on loopback (tests/support/webhook_receiver.py). The receiver is
// down when a set fails: the scheduler says the delivery failed and keeps
// retrying, and once the receiver is up the notice arrives, as the
// generic JSON and as Slack's text (that webhook's URL read from a file).
// A complete set after the failure is told as set_recovered, to the
// webhook that takes that event only.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "dxbackup/v1/types.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"
#include "tests/support/webhook_receiver.h"

namespace dxbackup {
namespace {

using testing::ChildProcess;
using testing::WriteFile;

std::string Field(const google::protobuf::Struct& s, const std::string& k) {
  auto it = s.fields().find(k);
  return it == s.fields().end() ? "" : it->second.string_value();
}

// A free port for a receiver to come up on later: one takes it, and goes
// away again; "" (with the failure added) if none did.
std::string FreeReceiverPort(const testing::TempDir& dir) {
  auto probe =
      testing::StartReceiver("0", dir / "probe.out", dir / "probe.log");
  const std::string line = probe->WaitForLine("listening on port");
  std::smatch m;
  if (!std::regex_search(line, m, std::regex("port (\\d+)"))) {
    ADD_FAILURE() << probe->Output();
    return "";
  }
  const std::string port = m[1];
  probe->Signal(SIGTERM);
  probe->Wait();
  return port;
}

// The config of nt/dx, whose database jcr is dumped by `dump` (YAML).
std::string DumpingDeployment(const std::string& dump) {
  return "deployments:\n"
         "  - namespace: nt\n"
         "    release: dx\n"
         "    databases:\n"
         "      - name: jcr\n"
         "        command:\n"
         "          dump: " +
         dump +
         "\n"
         "          restore: [cat]\n";
}

TEST(NotificationsTest, ADownReceiverGetsTheFailureOnceUpThenTheRecovery) {
  testing::TempDir dir;
  const std::string port = FreeReceiverPort(dir);
  ASSERT_FALSE(port.empty());
  const std::string base = "http://127.0.0.1:" + port;
  WriteFile(dir / "slack-url", base + "/slack\n");
  // The dump fails until the file `ok` exists.
  WriteFile(
      dir / "scheduler.yaml",
      DumpingDeployment("[sh, -c, 'test -f " + dir / "ok" + " && echo rows']") +
          "notifications:\n"
          "  webhooks:\n"
          "    - {name: generic, url: \"" +
          base + "/generic\"}\n" +
          "    - {name: chat, format: SLACK, url_file: " + dir / "slack-url" +
          ", events: [set_failed]}\n");
  testing::SchedulerProcess scheduler(testing::SchedulerIn(dir.path()));
  ASSERT_FALSE(scheduler.address().empty()) << scheduler.Output();
  testing::CliClient cli(scheduler.address());

  std::string out;
  EXPECT_EQ(cli.Run({"backup", "--namespace", "nt", "--release", "dx"}, &out),
            1)
      << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) started")))
      << out;
  const std::string failed_set = m[1];
  // Nobody listens yet: the scheduler says so, and will try again.
  EXPECT_NE(scheduler
                .WaitForLine("notification set_failed to webhook generic "
                             "failed (the webhook could not be reached")
                .find("retrying in"),
            std::string::npos)
      << scheduler.Output();

  auto receiver =
      testing::StartReceiver(port, dir / "received", dir / "receiver.log");
  ASSERT_NE(receiver->WaitForLine("listening on port"), "")
      << receiver->Output();
  std::vector<google::protobuf::Struct> got =
      testing::Received(dir / "received", 2);
  ASSERT_EQ(got.size(), 2u) << scheduler.Output();
  std::map<std::string, google::protobuf::Struct> by_path;
  for (const auto& r : got) by_path[Field(r, "path")] = r;
  ASSERT_EQ(by_path.count("/generic"), 1u);
  ASSERT_EQ(by_path.count("/slack"), 1u);
  EXPECT_EQ(Field(by_path["/generic"], "content_type"), "application/json");
  v1::Notice notice;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  Field(by_path["/generic"], "body"), &notice)
                  .ok());
  EXPECT_EQ(notice.event(), "set_failed");
  EXPECT_EQ(notice.namespace_(), "nt");
  EXPECT_EQ(notice.release(), "dx");
  EXPECT_EQ(notice.set_id(), failed_set);
  EXPECT_NE(notice.detail().find("db/jcr"), std::string::npos)
      << notice.detail();
  EXPECT_FALSE(notice.scheduler().empty());
  google::protobuf::Struct slack;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  Field(by_path["/slack"], "body"), &slack)
                  .ok());
  EXPECT_EQ(Field(slack, "text")
                .rfind("dxbackup set_failed: backup set " + failed_set, 0),
            0u)
      << Field(slack, "text");

  // Fixed: the next set completes, and only `generic` takes the recovery.
  WriteFile(dir / "ok", "");
  ASSERT_EQ(cli.Run({"backup", "--namespace", "nt", "--release", "dx"}, &out),
            0)
      << out;
  got = testing::Received(dir / "received", 3);
  ASSERT_EQ(got.size(), 3u) << scheduler.Output();
  EXPECT_EQ(Field(got[2], "path"), "/generic");
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Field(got[2], "body"),
                                                          &notice)
                  .ok());
  EXPECT_EQ(notice.event(), "set_recovered");
  receiver->Signal(SIGTERM);
  scheduler.Signal(SIGTERM);
}

// The notice of a failed set, not delivered when the scheduler was
// killed, is kept in the catalog: the scheduler started next (a restart,
// or a standby taking over) sends it.
TEST(NotificationsTest, ANoticeNotDeliveredBeforeAKillIsSentByTheNextStart) {
  testing::TempDir dir;
  const std::string port = FreeReceiverPort(dir);
  ASSERT_FALSE(port.empty());
  WriteFile(dir / "scheduler.yaml",
            DumpingDeployment("[\"false\"]") +
                "notifications:\n"
                "  webhooks:\n"
                "    - {name: generic, url: \"http://127.0.0.1:" +
                port + "/generic\"}\n");
  std::string failed_set;
  {
    testing::SchedulerProcess scheduler(testing::SchedulerIn(dir.path()));
    ASSERT_FALSE(scheduler.address().empty()) << scheduler.Output();
    std::string out;
    EXPECT_EQ(
        testing::CliClient(scheduler.address())
            .Run({"backup", "--namespace", "nt", "--release", "dx"}, &out),
        1)
        << out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) started")))
        << out;
    failed_set = m[1];
    ASSERT_NE(scheduler.WaitForLine("notification set_failed to webhook "
                                    "generic failed"),
              "")
        << scheduler.Output();
    scheduler.Signal(SIGKILL);
    scheduler.Wait();
  }
  auto receiver =
      testing::StartReceiver(port, dir / "received", dir / "receiver.log");
  ASSERT_NE(receiver->WaitForLine("listening on port"), "")
      << receiver->Output();
  testing::SchedulerOptions again = testing::SchedulerIn(dir.path());
  again.log = dir / "scheduler-2.log";
  testing::SchedulerProcess next(again);
  ASSERT_FALSE(next.address().empty()) << next.Output();
  std::vector<google::protobuf::Struct> got =
      testing::Received(dir / "received", 1);
  ASSERT_EQ(got.size(), 1u) << next.Output();
  v1::Notice notice;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Field(got[0], "body"),
                                                          &notice)
                  .ok());
  EXPECT_EQ(notice.event(), "set_failed");
  EXPECT_EQ(notice.set_id(), failed_set);
  // Delivered, it is not kept: a third start sends nothing more.
  next.Signal(SIGTERM);
  EXPECT_EQ(next.Wait(), 0);
  again.log = dir / "scheduler-3.log";
  testing::SchedulerProcess third(again);
  ASSERT_FALSE(third.address().empty()) << third.Output();
  third.Signal(SIGTERM);
  EXPECT_EQ(third.Wait(), 0);
  EXPECT_EQ(third.Output().find("not delivered before this start"),
            std::string::npos)
      << third.Output();
  receiver->Signal(SIGTERM);
}

}  // namespace
}  // namespace dxbackup
