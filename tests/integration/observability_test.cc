// What a cluster sees of a running scheduler: gRPC health (what Kubernetes
// probes ask), Prometheus metrics that move when a set ends, and JSON log
// lines a log collector can parse.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <regex>
#include <sstream>

#include "tests/support/fleet_fixture.h"
#include "tests/support/health_check.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

using testing::ChildProcess;
using testing::RunCommand;
using testing::WriteFile;

const std::string kBin = DXBACKUP_BIN_DIR;

// The value of each sample line ("name{labels} value") of a scrape.
std::map<std::string, double> Scrape(int port) {
  std::string text;
  EXPECT_EQ(
      RunCommand({"curl", "-sf",
                  "http://127.0.0.1:" + std::to_string(port) + "/metrics"},
                 &text),
      0)
      << text;
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

TEST(ObservabilityTest, HealthMetricsAndJsonLogs) {
  testing::TempDir dir;
  WriteFile(dir / "scheduler.yaml",
            "deployments:\n"
            "  - namespace: obs\n"
            "    release: dx\n"
            "    hooks:\n"
            "      - {name: stop, component: core, phase: pre, command: "
            "[\"true\"]}\n"
            "      - {name: start, component: core, phase: post, command: "
            "[\"true\"]}\n"
            "  - namespace: obs\n"
            "    release: broken\n"
            "    databases:\n"
            "      - {dbname: gone, host: " +
                dir / "no-postgres-here" +
                ", password_file: " + dir / "no-password" +
                "}\n"
                "policies:\n"
                "  - name: keep-one\n"
                "    selector: {namespaces: [obs], release: dx}\n"
                "    schedule: \"@yearly\"\n"
                "    retention: {keep_last: 1}\n");
  WriteFile(dir / "volume/data.txt", "observed\n");
  testing::SchedulerOptions options = testing::SchedulerIn(dir.path());
  options.flags = {"--metrics-listen", "127.0.0.1:0", "--log-format", "json"};
  testing::SchedulerProcess scheduler(options);
  const std::string address = scheduler.address();
  ASSERT_FALSE(address.empty()) << scheduler.Output();
  const int metrics_port = scheduler.WaitForMetricsPort();
  ASSERT_NE(metrics_port, 0) << scheduler.Output();
  const testing::CliClient cli(address);

  EXPECT_EQ(testing::HealthStatus(address), 1) << "SERVING";

  testing::AgentOptions agent_options =
      testing::AgentOf(address, "obs", "dx", "dx-core-0", "core",
                       {"data=" + (dir / "volume")}, dir / "agent.log");
  agent_options.flags = {"--log-format", "json"};
  testing::AgentProcess agent(agent_options);
  ASSERT_TRUE(agent.registered()) << agent.Output();

  const std::string complete =
      "dxbackup_sets_total{namespace=\"obs\",release=\"dx\","
      "result=\"complete\"}";
  const std::string stored =
      "dxbackup_stored_bytes_total{namespace=\"obs\",release=\"dx\"}";
  const std::string last =
      "dxbackup_last_complete_set_timestamp_seconds{namespace=\"obs\","
      "release=\"dx\"}";
  std::map<std::string, double> before = Scrape(metrics_port);
  EXPECT_EQ(before.count(complete), 0u);
  EXPECT_EQ(before["dxbackup_agents_connected{namespace=\"obs\"}"], 1);

  std::string out;
  ASSERT_EQ(cli.Run({"backup", "--namespace", "obs", "--release", "dx"}, &out),
            0)
      << out;
  std::map<std::string, double> after = Scrape(metrics_port);
  EXPECT_EQ(after[complete], 1);
  EXPECT_GT(after[stored], 0);
  EXPECT_GT(after[last], 1.7e9) << "a Unix time";
  EXPECT_EQ(after["dxbackup_set_duration_seconds_count{result=\"complete\"}"],
            1);
  // Each job's end, by kind, result and status code.
  EXPECT_EQ(after["dxbackup_jobs_ended_total{code=\"OK\",kind=\"volume_"
                  "backup\",result=\"succeeded\"}"],
            1);
  // The quiesce window of the set (its hooks ran) is the one the catalog
  // recorded.
  const std::string window =
      "dxbackup_quiesce_window_seconds{namespace=\"obs\",release=\"dx\"}";
  ASSERT_EQ(after.count(window), 1u) << "a set with hooks sets the gauge";
  std::string json;
  ASSERT_EQ(cli.Run({"--json", "sets", "--namespace", "obs", "--release", "dx"},
                    &json),
            0)
      << json;
  std::smatch quiesce;
  const bool recorded = std::regex_search(
      json, quiesce, std::regex("\"quiesce_seconds\":\\s*\"?(\\d+)"));
  EXPECT_EQ(after[window], recorded ? std::stod(quiesce[1]) : 0.0) << json;

  // A failed set counts as failed, with its duration.
  EXPECT_EQ(
      cli.Run({"backup", "--namespace", "obs", "--release", "broken"}, &out), 1)
      << out;
  // Two sets of a keep_last 1 policy: retention removes one.
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(cli.Run({"backup", "--policy", "keep-one"}, &out), 0) << out;
  }
  ASSERT_EQ(cli.Run({"prune"}, &out), 0) << out;
  std::map<std::string, double> later = Scrape(metrics_port);
  EXPECT_EQ(later["dxbackup_sets_total{namespace=\"obs\",release=\"broken\","
                  "result=\"failed\"}"],
            1);
  EXPECT_EQ(later["dxbackup_set_duration_seconds_count{result=\"failed\"}"], 1);
  // Its dump failed for want of the password file: the code says so.
  EXPECT_EQ(later["dxbackup_jobs_ended_total{code=\"FAILED_PRECONDITION\","
                  "kind=\"database_backup\",result=\"failed\"}"],
            1);
  EXPECT_EQ(later["dxbackup_retention_removed_sets_total{namespace=\"obs\","
                  "release=\"dx\"}"],
            1)
      << "keep_last 1 of two policy sets removes one";
  // The one kept, deleted by hand: counted as such, not as retention's.
  ASSERT_EQ(cli.Run({"--json", "sets", "--policy", "keep-one"}, &json), 0)
      << json;
  std::smatch kept;
  ASSERT_TRUE(
      std::regex_search(json, kept, std::regex("\"id\":\\s*\"([^\"]+)\"")))
      << json;
  ASSERT_EQ(cli.Run({"delete", kept[1]}, &out), 0) << out;
  later = Scrape(metrics_port);
  EXPECT_EQ(later["dxbackup_retention_removed_sets_total{namespace=\"obs\","
                  "release=\"dx\"}"],
            1);
  EXPECT_EQ(later["dxbackup_deleted_sets_total{namespace=\"obs\","
                  "release=\"dx\"}"],
            1);

  scheduler.Signal(SIGTERM);
  EXPECT_EQ(scheduler.Wait(), 0);
  {
    // A restarted scheduler still knows when the last complete set ended.
    testing::SchedulerOptions restarted = testing::SchedulerIn(dir.path());
    restarted.log = dir / "scheduler-2.log";
    restarted.flags = {"--metrics-listen", "127.0.0.1:0"};
    testing::SchedulerProcess again(restarted);
    const int again_metrics_port = again.WaitForMetricsPort();
    ASSERT_NE(again_metrics_port, 0) << again.Output();
    EXPECT_EQ(Scrape(again_metrics_port)[last], later[last]);
  }
  // Every line on stderr of both processes is one JSON object with the
  // fields a collector indexes.
  for (const std::string& log : {scheduler.Output(), agent.Output()}) {
    std::istringstream lines(log);
    std::string line;
    int parsed = 0;
    while (std::getline(lines, line)) {
      if (line.rfind("listening on port", 0) == 0 ||
          line.rfind("metrics on port", 0) == 0) {
        continue;  // the stdout lines for scripts
      }
      google::protobuf::Struct object;
      ASSERT_TRUE(
          google::protobuf::util::JsonStringToMessage(line, &object).ok())
          << line;
      for (const char* field : {"time", "level", "source", "message"}) {
        EXPECT_TRUE(object.fields().contains(field)) << field << ": " << line;
      }
      ++parsed;
    }
    EXPECT_GT(parsed, 2) << log;
  }
}

// SIGTERM with --drain-seconds: health probes see NOT_SERVING while the
// scheduler still answers, so that a Service sends new callers elsewhere
// before the listener closes; a second signal ends the drain at once.
TEST(ObservabilityTest, ADrainingSchedulerIsNotServingButStillAnswers) {
  testing::TempDir dir;
  WriteFile(dir / "scheduler.yaml", "policies: []\n");
  testing::SchedulerOptions options = testing::SchedulerIn(dir.path());
  options.flags = {"--drain-seconds", "3600"};
  testing::SchedulerProcess scheduler(options);
  const std::string address = scheduler.address();
  ASSERT_FALSE(address.empty()) << scheduler.Output();
  EXPECT_EQ(testing::HealthStatus(address), 1) << "SERVING";

  scheduler.Signal(SIGTERM);
  ASSERT_FALSE(scheduler.WaitForLine("NOT_SERVING; stopping in 3600 s").empty())
      << scheduler.Output();
  EXPECT_EQ(testing::HealthStatus(address), 2) << "NOT_SERVING while draining";
  std::string out;
  EXPECT_EQ(testing::CliClient(address).Run({"agents"}, &out), 0)
      << "still answering: " << out;

  scheduler.Signal(SIGTERM);
  EXPECT_EQ(scheduler.Wait(), 0) << scheduler.Output();
}

// The drill gauges come from the catalog when the scheduler starts: a
// restart does not lose when each deployment was last drilled, nor the RTO
// its last pass measured.
TEST(ObservabilityTest, DrillGaugesSurviveARestart) {
  testing::TempDir dir;
  testing::FleetShape shape;  // dx-t0003 passed its drill, dx-t0008 failed
  shape.deployments = 10;
  shape.sets_per_deployment = 3;
  shape.now_unix = 1800000000;
  std::filesystem::create_directories(dir / "data");
  ASSERT_TRUE(testing::GenerateFleet(dir / "data/catalog.db", shape).ok());
  WriteFile(dir / "scheduler.yaml", testing::FleetPolicyYaml());
  testing::SchedulerOptions options = testing::SchedulerIn(dir.path());
  options.flags = {"--metrics-listen", "127.0.0.1:0"};
  testing::SchedulerProcess scheduler(options);
  ASSERT_FALSE(scheduler.address().empty()) << scheduler.Output();
  const int port = scheduler.WaitForMetricsPort();
  ASSERT_NE(port, 0) << scheduler.Output();
  std::map<std::string, double> samples = Scrape(port);
  const std::string passed =
      "dxbackup_drill_last_timestamp_seconds{namespace=\"dx-t0003\","
      "release=\"dx\",result=\"passed\"}";
  ASSERT_EQ(samples.count(passed), 1u);
  EXPECT_EQ(samples[passed], 1800000000 - 3600);
  EXPECT_EQ(samples.count("dxbackup_drill_last_timestamp_seconds{namespace="
                          "\"dx-t0008\",release=\"dx\",result=\"failed\"}"),
            1u);
  EXPECT_GE(samples["dxbackup_drill_rto_seconds{namespace=\"dx-t0003\","
                    "release=\"dx\"}"],
            900);
  EXPECT_EQ(samples.count("dxbackup_drill_rto_seconds{namespace=\"dx-t0008\","
                          "release=\"dx\"}"),
            0u)
      << "a failed drill measures no RTO";
}

}  // namespace
}  // namespace dxbackup
