// dxbackup-agents-bench: what idle connected agents cost a scheduler. It
// starts the real dxbackup-scheduler (a SQLite catalog in a temporary
// directory, plaintext on loopback), then connects agents to it from this
// one process: each fake agent has a channel and a TCP connection of its own
// and speaks the agent protocol (a Hello, then a Heartbeat every
// `heartbeat_seconds`, each agent at its own phase), as that many agent
// processes would, which do not fit on a test machine at 10,000. Once every
// agent is welcomed it samples the scheduler's CPU (utime + stime from
// /proc) over windows of --window-seconds and reports the median, with its
// resident memory. The peer is the same measurement at --peer-agents in the
// same run: the ratio says how the cost grows with the fleet.
//
//   dxbackup-agents-bench [--agents 10000] [--peer-agents 1000]
//       [--heartbeat-seconds 10] [--windows 6] [--window-seconds 10]
//
// Exits 1 if the larger fleet costs more than --max-core-percent of a core
// (25) or --max-rss-mib of memory (1024), or if an agent was not welcomed.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/process.h"
#include "dxbackup/v1/agent.grpc.pb.h"
#include "tools/bench/bench_util.h"

namespace po = boost::program_options;

namespace dxbackup::bench {
namespace {

using Clock = std::chrono::steady_clock;

// One fake agent: its own channel (so its own connection), one Connect
// stream, a Hello and then heartbeats. Callbacks run on gRPC's threads;
// Beat() on the bench's heartbeat thread; one write is in flight at most.
class FakeAgent
    : public grpc::ClientBidiReactor<v1::AgentMessage, v1::SchedulerMessage> {
 public:
  FakeAgent(const std::string& address, int index, std::atomic<int>* welcomed,
            std::atomic<int>* ended)
      : welcomed_(welcomed), ended_(ended) {
    grpc::ChannelArguments args;
    // A connection per agent, as separate processes have: no subchannel is
    // shared between channels.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("dxbackup.bench.agent", index);
    channel_ = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    stub_ = v1::AgentService::NewStub(channel_);
    v1::Hello* hello = out_.mutable_hello();
    hello->set_namespace_(absl::StrFormat("load-%03d", index / 100));
    hello->set_release("dx");
    hello->set_pod(absl::StrFormat("dx-core-%05d", index));
    hello->set_component("core");
    hello->set_agent_version("bench");
  }

  void Start() {
    stub_->async()->Connect(&context_, this);
    StartRead(&in_);
    writing_ = true;
    StartWrite(&out_);
    // OnDone (after which the call is gone) waits for Stop(): a Beat()
    // racing with the stream's end still writes to a live call.
    AddHold();
    StartCall();
  }
  // Sends a heartbeat unless a write is still in flight; false if skipped.
  bool Beat() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!welcomed_here_ || stopped_) return false;
    bool idle = false;
    if (!writing_.compare_exchange_strong(idle, true)) return false;
    out_.Clear();
    out_.mutable_heartbeat()->set_sent_unix(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    StartWrite(&out_);
    return true;
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    context_.TryCancel();
    RemoveHold();
  }

  void OnWriteDone(bool ok) override { writing_ = false; }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ends; OnDone follows
    if (in_.has_welcome() && !welcomed_here_) {
      welcomed_here_ = true;
      ++*welcomed_;
    }
    StartRead(&in_);
  }
  void OnDone(const grpc::Status& status) override { ++*ended_; }

 private:
  std::atomic<int>* welcomed_;
  std::atomic<int>* ended_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
  grpc::ClientContext context_;
  v1::AgentMessage out_;
  v1::SchedulerMessage in_;
  std::atomic<bool> writing_{false};
  std::atomic<bool> welcomed_here_{false};
  std::mutex mu_;         // Beat against Stop
  bool stopped_ = false;  // with mu_
};

// A process's CPU (user + system) in seconds, and its resident memory.
struct ProcessUse {
  double cpu_seconds = 0;
  double rss_mib = 0;
  double peak_rss_mib = 0;
};

ProcessUse ReadUse(pid_t pid) {
  ProcessUse use;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  // Fields after the command's closing parenthesis: state is the third of
  // the line, utime the 14th, stime the 15th.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field) fields.push_back(field);
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (fields.size() > 12) {
    use.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / tick;
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      use.rss_mib = std::stod(line.substr(6)) / 1024;
    } else if (line.rfind("VmHWM:", 0) == 0) {
      use.peak_rss_mib = std::stod(line.substr(6)) / 1024;
    }
  }
  return use;
}

struct Result {
  int agents = 0;
  int welcomed = 0;
  double connect_seconds = 0;  // from the first Hello to the last Welcome
  double core_percent = 0;     // median over the windows
  double rss_mib = 0;
  double peak_rss_mib = 0;
};

// Reads the child's stdout until "listening on port N"; 0 if it ended.
int AwaitPort(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1) {
    if (c != '\n') {
      line.push_back(c);
      continue;
    }
    if (line.rfind("listening on port ", 0) == 0) {
      return std::stoi(line.substr(18));
    }
    line.clear();
  }
  return 0;
}

Result Measure(const std::string& bin_dir, int agents, int heartbeat_seconds,
               int windows, int window_seconds) {
  const std::string dir =
      std::filesystem::temp_directory_path() /
      absl::StrCat("dxbackup-agents-bench-", getpid(), "-", agents);
  std::filesystem::create_directories(dir);
  {
    std::ofstream config(dir + "/scheduler.yaml");
    // Every fake agent dials from 127.0.0.1, one host: the per-host
    // stream limit (256 by default) is raised past the fleet, as agents
    // on a pod IP each never meet it.
    config << "heartbeat_seconds: " << heartbeat_seconds
           << "\noffline_after_heartbeats: 3\nlimits: {max_streams_per_caller: "
           << agents + 100 << "}\npolicies: []\n";
  }
  common::ProcessSpec spec;
  spec.argv = {bin_dir + "/dxbackup-scheduler",
               "--listen",
               "127.0.0.1:0",
               "--data-dir",
               dir + "/data",
               "--config",
               dir + "/scheduler.yaml",
               "--insecure-loopback"};
  spec.stream_stdout = true;
  auto scheduler = common::Subprocess::Start(spec);
  if (!scheduler.ok()) {
    std::cerr << "agents-bench: " << scheduler.status().message() << "\n";
    std::exit(1);
  }
  const int port = AwaitPort((*scheduler)->stdout_fd());
  if (port == 0) {
    std::cerr << "agents-bench: the scheduler did not start\n";
    std::exit(1);
  }
  const std::string address = absl::StrCat("127.0.0.1:", port);

  Result result;
  result.agents = agents;
  std::atomic<int> welcomed{0}, ended{0};
  std::vector<std::unique_ptr<FakeAgent>> fleet;
  const auto started = Clock::now();
  for (int i = 0; i < agents; ++i) {
    fleet.push_back(std::make_unique<FakeAgent>(address, i, &welcomed, &ended));
    fleet.back()->Start();
  }
  // Heartbeats: agent i beats at its own phase within each period, as
  // agents started at different moments do.
  std::atomic<bool> stop{false};
  std::thread beater([&] {
    const auto period = std::chrono::milliseconds(heartbeat_seconds * 1000);
    const auto begin = Clock::now();
    std::vector<Clock::time_point> next(agents);
    for (int i = 0; i < agents; ++i) {
      next[i] = begin + period * (i + 1) / agents;
    }
    while (!stop) {
      const auto now = Clock::now();
      for (int i = 0; i < agents; ++i) {
        if (next[i] <= now) {
          fleet[i]->Beat();
          next[i] += period;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  // Waits while welcomes keep coming (a stall of 30 s gives up).
  int last = -1;
  auto progressed = Clock::now();
  while (welcomed < agents &&
         Clock::now() - progressed < std::chrono::seconds(30)) {
    if (welcomed != last) {
      last = welcomed;
      progressed = Clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  result.welcomed = welcomed;
  result.connect_seconds =
      std::chrono::duration<double>(Clock::now() - started).count();
  // One period for the registrations' catalog writes to settle, then the
  // windows.
  std::this_thread::sleep_for(std::chrono::seconds(heartbeat_seconds));
  std::vector<double> percents;
  for (int w = 0; w < windows; ++w) {
    const ProcessUse before = ReadUse((*scheduler)->pid());
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(window_seconds));
    const ProcessUse after = ReadUse((*scheduler)->pid());
    const double wall =
        std::chrono::duration<double>(Clock::now() - t0).count();
    percents.push_back(100 * (after.cpu_seconds - before.cpu_seconds) / wall);
    result.rss_mib = after.rss_mib;
    result.peak_rss_mib = after.peak_rss_mib;
  }
  std::sort(percents.begin(), percents.end());
  result.core_percent = percents[percents.size() / 2];

  stop = true;
  beater.join();
  for (auto& agent : fleet) agent->Stop();
  while (ended < agents) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  fleet.clear();
  kill((*scheduler)->pid(), SIGTERM);
  (*scheduler)->Wait().IgnoreError();
  std::filesystem::remove_all(dir);
  return result;
}

}  // namespace
}  // namespace dxbackup::bench

int main(int argc, char** argv) {
  int agents = 10000, peer_agents = 1000, heartbeat = 10, windows = 6,
      window_seconds = 10;
  double max_core_percent = 25, max_rss_mib = 1024;
  std::string bin_dir;
  po::options_description opts("dxbackup-agents-bench");
  opts.add_options()("help", "this text")(
      "agents", po::value(&agents)->default_value(agents),
      "agents of the measured fleet")(
      "peer-agents", po::value(&peer_agents)->default_value(peer_agents),
      "agents of the peer fleet, measured first")(
      "heartbeat-seconds", po::value(&heartbeat)->default_value(heartbeat),
      "the scheduler's heartbeat_seconds")(
      "windows", po::value(&windows)->default_value(windows),
      "CPU sampling windows (the median is reported)")(
      "window-seconds",
      po::value(&window_seconds)->default_value(window_seconds),
      "length of a window")(
      "max-core-percent",
      po::value(&max_core_percent)->default_value(max_core_percent),
      "the measured fleet's CPU target, % of one core")(
      "max-rss-mib", po::value(&max_rss_mib)->default_value(max_rss_mib),
      "the measured fleet's memory target")(
      "bin-dir", po::value(&bin_dir),
      "where dxbackup-scheduler is (default: beside this program)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "dxbackup-agents-bench: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (windows < 1 || window_seconds < 1 || heartbeat < 1 || agents < 1 ||
      peer_agents < 1) {
    std::cerr << "dxbackup-agents-bench: --agents, --peer-agents, "
                 "--heartbeat-seconds, --windows and --window-seconds must "
                 "be 1 or more\n";
    return 2;
  }
  if (bin_dir.empty()) {
    bin_dir = std::filesystem::canonical("/proc/self/exe").parent_path();
  }
  // A descriptor per connection on both sides: as many as the hard limit
  // lets this process and the scheduler it starts have.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  if (static_cast<int64_t>(files.rlim_cur) < agents + 1000) {
    std::cerr << "dxbackup-agents-bench: the open files limit ("
              << files.rlim_cur << ") is below " << agents + 1000
              << ": raise it (ulimit -Hn) or ask for fewer --agents\n";
    return 2;
  }

  using dxbackup::bench::Measure;
  const auto peer =
      Measure(bin_dir, peer_agents, heartbeat, windows, window_seconds);
  const auto fleet =
      Measure(bin_dir, agents, heartbeat, windows, window_seconds);
  std::cout << "agents-bench on " << dxbackup::bench::CpuModel() << " ("
            << std::thread::hardware_concurrency() << " cores), heartbeat "
            << heartbeat << " s, CPU the median of " << windows
            << " windows of " << window_seconds << " s\n\n";
  std::cout << "| agents | welcomed | connected in | scheduler CPU | RSS | "
               "peak RSS | CPU vs peer | within "
            << max_core_percent << "% and " << max_rss_mib << " MiB |\n"
            << "|---|---|---|---|---|---|---|---|\n";
  bool holds = true;
  for (const auto* r : {&peer, &fleet}) {
    const bool measured = r == &fleet;
    const bool within = r->core_percent <= max_core_percent &&
                        r->peak_rss_mib <= max_rss_mib &&
                        r->welcomed == r->agents;
    if (measured) holds = within;
    std::cout << absl::StrFormat(
        "| %d | %d | %.1f s | %.2f%% of a core | %.0f MiB | %.0f MiB | %s | "
        "%s |\n",
        r->agents, r->welcomed, r->connect_seconds, r->core_percent, r->rss_mib,
        r->peak_rss_mib,
        measured
            ? absl::StrFormat(
                  "%.2fx", r->core_percent / std::max(peer.core_percent, 0.01))
            : "1.00x (peer)",
        measured ? (within ? "yes" : "NO") : "-");
  }
  return holds ? 0 : 1;
}
