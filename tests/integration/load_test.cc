// Load on loopback: 100 agents (ten releases in each of ten namespaces)
// back up at once through one scheduler. Reports the scheduler's
// throughput and peak RSS, and checks that every set completed within the
// bound, every stored artifact hashes to its catalog digest, and every
// agent's data came back byte for byte from its archive (GNU tar).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <random>

#include "common/sha256.h"
#include "dxbackup/v1/admin.pb.h"
#include "tests/support/random_bytes.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup {
namespace {

using testing::ChildProcess;
using testing::RandomBytes;
using testing::RunCommand;
using testing::WriteFile;

const std::string kBin = DXBACKUP_BIN_DIR;
constexpr int kNamespaces = 10;
constexpr int kReleases = 10;
constexpr size_t kBytesPerAgent = 4 << 20;
constexpr auto kBound = std::chrono::minutes(5);

// The process's peak resident set (VmHWM), in KiB.
long PeakRssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "VmHWM:") {
      status >> value;
      return value;
    }
    status.ignore(1 << 10, '\n');
  }
  return -1;
}

TEST(LoadTest, HundredAgentsUploadAtOnceAndNothingIsLost) {
  testing::TempDir dir;
  testing::SchedulerProcess scheduler(testing::SchedulerIn(
      dir.path(),
      "limits: {max_sets: 100, max_sets_per_namespace: 10}\n"
      "heartbeat_seconds: 5\n"));
  const std::string address = scheduler.address();
  ASSERT_FALSE(address.empty()) << scheduler.Output();
  const testing::CliClient cli(address);

  struct Agent {
    std::string ns, release, source_digest;
    std::unique_ptr<testing::AgentProcess> process;
    std::unique_ptr<ChildProcess> backup;
  };
  std::vector<Agent> agents;
  for (int n = 0; n < kNamespaces; ++n) {
    for (int r = 0; r < kReleases; ++r) {
      Agent a;
      a.ns = "load-" + std::to_string(n);
      a.release = "r" + std::to_string(r);
      const std::string volume = dir / ("volumes/" + a.ns + "-" + a.release);
      const std::string data = RandomBytes(kBytesPerAgent, n * 100 + r);
      WriteFile(volume + "/data.bin", data);
      common::Sha256 h;
      h.Update(data);
      a.source_digest = h.HexDigest();
      testing::AgentOptions agent =
          testing::AgentOf(address, a.ns, a.release, a.release + "-core-0",
                           "core", {"data=" + volume},
                           dir / ("agent-" + a.ns + "-" + a.release + ".log"));
      agent.wait = false;  // all start at once; waited for below
      a.process = std::make_unique<testing::AgentProcess>(agent);
      agents.push_back(std::move(a));
    }
  }
  for (Agent& a : agents) {
    ASSERT_TRUE(a.process->WaitRegistered())
        << a.ns << "/" << a.release << ": " << a.process->Output();
  }

  const auto start = std::chrono::steady_clock::now();
  for (Agent& a : agents) {
    a.backup =
        cli.Start({"backup", "--namespace", a.ns, "--release", a.release},
                  dir / ("backup-" + a.ns + "-" + a.release + ".log"));
  }
  int failed = 0;
  for (Agent& a : agents) {
    const int rc = a.backup->Wait();
    if (rc != 0) {
      ++failed;
      ADD_FAILURE() << a.ns << "/" << a.release << ": " << a.backup->Output();
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const double mib = agents.size() * kBytesPerAgent / double(1 << 20);
  const long rss_kib = PeakRssKib(scheduler.pid());
  std::printf(
      "load: %zu agents, %.0f MiB in %.2f s = %.1f MiB/s through the "
      "scheduler; scheduler peak RSS %.1f MiB; %d failed\n",
      agents.size(), mib, seconds, mib / seconds, rss_kib / 1024.0, failed);
  EXPECT_LT(seconds, std::chrono::duration<double>(kBound).count())
      << "100 sets of 4 MiB each took longer than the bound";
  ASSERT_EQ(failed, 0);

  // Every set complete; every artifact hashes to its digest and holds its
  // agent's data.
  for (const Agent& a : agents) {
    v1::ListSetsResponse sets;
    ASSERT_TRUE(cli.JsonInto(
        {"sets", "--namespace", a.ns, "--release", a.release}, &sets));
    ASSERT_EQ(sets.sets_size(), 1) << sets.ShortDebugString();
    ASSERT_EQ(sets.sets(0).status(), v1::SET_COMPLETE)
        << sets.ShortDebugString();
    v1::SetDetail detail;
    ASSERT_TRUE(cli.JsonInto({"show", sets.sets(0).id()}, &detail));
    ASSERT_EQ(detail.artifacts_size(), 1) << detail.ShortDebugString();
    const std::string stored =
        dir / ("data/store/" + detail.artifacts(0).path());
    auto digest = common::Sha256OfFile(stored);
    ASSERT_TRUE(digest.ok()) << digest.status();
    EXPECT_EQ(*digest, detail.artifacts(0).sha256()) << stored;
    std::string data;
    ASSERT_EQ(RunCommand({"tar", "--zstd", "-xOf", stored, "data.bin"}, &data),
              0)
        << stored;
    common::Sha256 h;
    h.Update(data);
    EXPECT_EQ(h.HexDigest(), a.source_digest) << stored;
  }
}

}  // namespace
}  // namespace dxbackup
