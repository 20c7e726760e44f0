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
//
// With --sets N, it then measures N sets at once through the scheduler
// with the fleet connected: the agents belong to N deployments (agent i to
// deployment i % N), the first N of them have one volume each, and a
// policy covering every deployment is run now (`dxbackup backup --policy`,
// the real CLI). A fake agent answers its backup job as a real one does —
// an Upload of its archive (64 KiB; the scheduler stores and hashes it but
// does not parse it) with its index entry and trailer, then a JobResult —
// on a pool of threads of the bench's. Reported: the time until every set
// ended, how many completed, the scheduler's CPU over that time and its
// peak memory, against the same N sets with only the N agents that have
// volumes connected (the peer). Exits 1 as well if a set did not complete
// or the peak passes --max-rss-mib.
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
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/process.h"
#include "common/sha256.h"
#include "dxbackup/v1/agent.grpc.pb.h"
#include "tools/bench/bench_util.h"

namespace po = boost::program_options;

namespace dxbackup::bench {
namespace {

using Clock = std::chrono::steady_clock;

class FakeAgent;

// Backup jobs the fake agents were given, run on a few threads of the
// bench's (an Upload each, then the job's result): a real agent runs each
// in a thread of its own, and a thousand threads here would measure the
// bench, not the scheduler.
class JobPool {
 public:
  explicit JobPool(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Run(); });
    }
  }
  ~JobPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Add(FakeAgent* agent, v1::BackupCommand command) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back({agent, std::move(command)});
    }
    cv_.notify_one();
  }

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<FakeAgent*, v1::BackupCommand>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Who a fake agent is: its deployment, pod and whether it has a volume.
struct AgentIdentity {
  std::string namespace_, release, pod;
  bool has_volume = false;
};

// One fake agent: its own channel (so its own connection), one Connect
// stream, a Hello and then heartbeats; with a volume, it answers backup
// jobs through `jobs`. Callbacks run on gRPC's threads; Beat() on the
// bench's heartbeat thread, Upload() on a JobPool's; writes go out one at
// a time, in order, from a queue.
class FakeAgent
    : public grpc::ClientBidiReactor<v1::AgentMessage, v1::SchedulerMessage> {
 public:
  FakeAgent(const std::string& address, int index, const AgentIdentity& who,
            JobPool* jobs, std::atomic<int>* welcomed, std::atomic<int>* ended)
      : jobs_(jobs), welcomed_(welcomed), ended_(ended) {
    grpc::ChannelArguments args;
    // A connection per agent, as separate processes have: no subchannel is
    // shared between channels.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("dxbackup.bench.agent", index);
    channel_ = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    stub_ = v1::AgentService::NewStub(channel_);
    v1::AgentMessage hello_message;
    v1::Hello* hello = hello_message.mutable_hello();
    hello->set_namespace_(who.namespace_);
    hello->set_release(who.release);
    hello->set_pod(who.pod);
    hello->set_component("core");
    hello->set_agent_version("bench");
    if (who.has_volume) {
      v1::Volume* volume = hello->add_volumes();
      volume->set_name("data");
      volume->set_path("/data");
    }
    outbox_.push_back(std::move(hello_message));
  }

  void Start() {
    stub_->async()->Connect(&context_, this);
    StartRead(&in_);
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      writing_ = true;
      StartWrite(&outbox_.front());
    }
    // OnDone (after which the call is gone) waits for Stop(): a write
    // racing with the stream's end still writes to a live call.
    AddHold();
    StartCall();
  }
  // Sends a heartbeat unless messages are still queued; false if skipped.
  bool Beat() {
    v1::AgentMessage beat;
    beat.mutable_heartbeat()->set_sent_unix(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    return Send(std::move(beat), /*unless_busy=*/true);
  }
  void Stop() {
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      stopped_ = true;
    }
    context_.TryCancel();
    RemoveHold();
  }

  // A backup job's upload (on a JobPool thread): the archive, its index
  // entry and trailer in one chunk, then the job's result.
  void Upload(const v1::BackupCommand& command);

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    outbox_.pop_front();
    if (!ok || stopped_ || outbox_.empty()) {
      writing_ = false;
      return;
    }
    StartWrite(&outbox_.front());
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ends; OnDone follows
    if (in_.has_welcome() && !welcomed_here_) {
      welcomed_here_ = true;
      ++*welcomed_;
    }
    if (in_.has_backup()) jobs_->Add(this, in_.backup());
    StartRead(&in_);
  }
  void OnDone(const grpc::Status& status) override { ++*ended_; }

 private:
  // Queues `message` (unless `unless_busy` and a write is in flight).
  bool Send(v1::AgentMessage message, bool unless_busy = false) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!welcomed_here_ || stopped_ || (unless_busy && writing_)) return false;
    outbox_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      StartWrite(&outbox_.front());
    }
    return true;
  }

  JobPool* jobs_;
  std::atomic<int>* welcomed_;
  std::atomic<int>* ended_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
  grpc::ClientContext context_;
  v1::SchedulerMessage in_;
  std::atomic<bool> welcomed_here_{false};
  // The outbox, against Stop; recursive, should gRPC run OnWriteDone
  // inside StartWrite.
  std::recursive_mutex mu_;
  std::deque<v1::AgentMessage> outbox_;  // front: being written
  bool writing_ = false;
  bool stopped_ = false;
};

// What every fake agent uploads: 64 KiB of bytes that do not compress.
const std::string& ArchiveBytes() {
  static const std::string bytes = [] {
    std::string b(64 * 1024, '\0');
    uint32_t x = 2463534242u;
    for (char& c : b) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      c = static_cast<char>(x);
    }
    return b;
  }();
  return bytes;
}

const std::string& ArchiveSha256() {
  static const std::string digest = [] {
    common::Sha256 sha;
    sha.Update(ArchiveBytes());
    return sha.HexDigest();
  }();
  return digest;
}

void FakeAgent::Upload(const v1::BackupCommand& command) {
  grpc::ClientContext context;
  auto stream = stub_->Upload(&context);
  v1::UploadChunk chunk;
  chunk.set_job_id(command.job_id());
  chunk.set_sequence(0);
  chunk.set_data(ArchiveBytes());
  v1::FileEntry* entry = chunk.add_entries();
  entry->set_path("data.bin");
  entry->set_type("file");
  entry->set_size(ArchiveBytes().size());
  v1::UploadTrailer* trailer = chunk.mutable_trailer();
  trailer->set_bytes(ArchiveBytes().size());
  trailer->set_files(1);
  trailer->set_sha256(ArchiveSha256());
  stream->Write(chunk);
  stream->WritesDone();
  v1::UploadReply reply;
  bool stored = false;
  while (stream->Read(&reply)) stored = stored || reply.has_result();
  const grpc::Status status = stream->Finish();
  v1::AgentMessage result;
  v1::JobResult* r = result.mutable_result();
  r->set_job_id(command.job_id());
  r->set_ok(status.ok() && stored);
  r->set_error(status.error_message());
  r->set_bytes(ArchiveBytes().size());
  r->set_files(1);
  Send(std::move(result));
}

void JobPool::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping
    auto [agent, command] = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    agent->Upload(command);
    lock.lock();
  }
}

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

// The real scheduler in a directory of its own, with `config`.
struct Scheduler {
  std::string dir;
  std::unique_ptr<common::Subprocess> process;
  std::string address;
};

Scheduler StartScheduler(const std::string& bin_dir, const std::string& name,
                         const std::string& config) {
  Scheduler s;
  s.dir = std::filesystem::temp_directory_path() /
          absl::StrCat("dxbackup-agents-bench-", getpid(), "-", name);
  std::filesystem::create_directories(s.dir);
  std::ofstream(s.dir + "/scheduler.yaml") << config;
  common::ProcessSpec spec;
  spec.argv = {bin_dir + "/dxbackup-scheduler",
               "--listen",
               "127.0.0.1:0",
               "--data-dir",
               s.dir + "/data",
               "--config",
               s.dir + "/scheduler.yaml",
               "--insecure-loopback"};
  spec.stream_stdout = true;
  auto process = common::Subprocess::Start(spec);
  if (!process.ok()) {
    std::cerr << "agents-bench: " << process.status().message() << "\n";
    std::exit(1);
  }
  s.process = std::move(*process);
  const int port = AwaitPort(s.process->stdout_fd());
  if (port == 0) {
    std::cerr << "agents-bench: the scheduler did not start\n";
    std::exit(1);
  }
  s.address = absl::StrCat("127.0.0.1:", port);
  return s;
}

void StopScheduler(Scheduler& s) {
  kill(s.process->pid(), SIGTERM);
  s.process->Wait().IgnoreError();
  std::filesystem::remove_all(s.dir);
}

// The config's common part: heartbeats, and every fake agent dialling from
// 127.0.0.1, one host: the per-host stream limit (256 by default) is raised
// past the fleet, as agents on a pod IP each never meet it.
std::string BaseConfig(int agents, int heartbeat_seconds) {
  return absl::StrCat("heartbeat_seconds: ", heartbeat_seconds,
                      "\noffline_after_heartbeats: 3\nlimits: "
                      "{max_streams_per_caller: ",
                      agents + 100, "}\n");
}

// `agents` fake agents connected to `address`, `who(i)` each, beating at
// their own phases; Stop() ends them.
class Fleet {
 public:
  Fleet(const std::string& address, int agents, int heartbeat_seconds,
        const std::function<AgentIdentity(int)>& who, JobPool* jobs)
      : heartbeat_seconds_(heartbeat_seconds) {
    started_ = Clock::now();
    for (int i = 0; i < agents; ++i) {
      agents_.push_back(std::make_unique<FakeAgent>(address, i, who(i), jobs,
                                                    &welcomed_, &ended_));
      agents_.back()->Start();
    }
    beater_ = std::thread([this] { Beat(); });
  }
  ~Fleet() { Stop(); }

  // Waits while welcomes keep coming (a stall of 30 s gives up); how many
  // came, and `*seconds` from the first Hello to then.
  int AwaitWelcomes(double* seconds) {
    int last = -1;
    auto progressed = Clock::now();
    const int agents = static_cast<int>(agents_.size());
    while (welcomed_ < agents &&
           Clock::now() - progressed < std::chrono::seconds(30)) {
      if (welcomed_ != last) {
        last = welcomed_;
        progressed = Clock::now();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    *seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    return welcomed_;
  }

  void Stop() {
    if (stop_.exchange(true)) return;
    beater_.join();
    for (auto& agent : agents_) agent->Stop();
    while (ended_ < static_cast<int>(agents_.size())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    agents_.clear();
  }

 private:
  // Heartbeats: agent i beats at its own phase within each period, as
  // agents started at different moments do.
  void Beat() {
    const auto period = std::chrono::milliseconds(heartbeat_seconds_ * 1000);
    const auto begin = Clock::now();
    const size_t n = agents_.size();
    std::vector<Clock::time_point> next(n);
    for (size_t i = 0; i < n; ++i) next[i] = begin + period * (i + 1) / n;
    while (!stop_) {
      const auto now = Clock::now();
      for (size_t i = 0; i < n; ++i) {
        if (next[i] <= now) {
          agents_[i]->Beat();
          next[i] += period;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  const int heartbeat_seconds_;
  Clock::time_point started_;
  std::atomic<int> welcomed_{0}, ended_{0};
  std::vector<std::unique_ptr<FakeAgent>> agents_;
  std::atomic<bool> stop_{false};
  std::thread beater_;
};

Result Measure(const std::string& bin_dir, int agents, int heartbeat_seconds,
               int windows, int window_seconds) {
  Scheduler scheduler =
      StartScheduler(bin_dir, absl::StrCat("idle-", agents),
                     BaseConfig(agents, heartbeat_seconds) + "policies: []\n");
  Result result;
  result.agents = agents;
  Fleet fleet(
      scheduler.address, agents, heartbeat_seconds,
      [](int i) {
        return AgentIdentity{absl::StrFormat("load-%03d", i / 100), "dx",
                             absl::StrFormat("dx-core-%05d", i), false};
      },
      nullptr);
  result.welcomed = fleet.AwaitWelcomes(&result.connect_seconds);
  // One period for the registrations' catalog writes to settle, then the
  // windows.
  std::this_thread::sleep_for(std::chrono::seconds(heartbeat_seconds));
  std::vector<double> percents;
  for (int w = 0; w < windows; ++w) {
    const ProcessUse before = ReadUse(scheduler.process->pid());
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(window_seconds));
    const ProcessUse after = ReadUse(scheduler.process->pid());
    const double wall =
        std::chrono::duration<double>(Clock::now() - t0).count();
    percents.push_back(100 * (after.cpu_seconds - before.cpu_seconds) / wall);
    result.rss_mib = after.rss_mib;
    result.peak_rss_mib = after.peak_rss_mib;
  }
  std::sort(percents.begin(), percents.end());
  result.core_percent = percents[percents.size() / 2];
  fleet.Stop();
  StopScheduler(scheduler);
  return result;
}

struct SetsResult {
  int agents = 0;
  int welcomed = 0;
  int sets = 0;
  int complete = 0;        // as the CLI counted them
  double seconds = 0;      // the policy run, from start to its last set
  double cpu_seconds = 0;  // the scheduler's, over that time
  double peak_rss_mib = 0;
  std::string failure;  // the CLI's output when it did not exit 0
};

// `sets` sets at once through a scheduler with `agents` agents connected.
SetsResult MeasureSets(const std::string& bin_dir, int agents, int sets,
                       int heartbeat_seconds) {
  Scheduler scheduler = StartScheduler(
      bin_dir, absl::StrCat("sets-", agents),
      BaseConfig(agents, heartbeat_seconds) +
          "policies:\n  - name: load\n    selector: {namespaces: "
          "[\"load-*\"]}\n    schedule: \"0 0 1 1 *\"\n");
  SetsResult result;
  result.agents = agents;
  result.sets = sets;
  JobPool jobs(16);
  Fleet fleet(
      scheduler.address, agents, heartbeat_seconds,
      [sets](int i) {
        const int d = i % sets;  // the deployment
        return AgentIdentity{absl::StrFormat("load-%03d", d / 10),
                             absl::StrCat("r", d % 10),
                             absl::StrFormat("dx-core-%05d", i), i < sets};
      },
      &jobs);
  double connect_seconds = 0;
  result.welcomed = fleet.AwaitWelcomes(&connect_seconds);
  std::this_thread::sleep_for(std::chrono::seconds(heartbeat_seconds));

  const ProcessUse before = ReadUse(scheduler.process->pid());
  const auto t0 = Clock::now();
  common::ProcessSpec cli;
  cli.argv = {bin_dir + "/dxbackup",
              "--server",
              scheduler.address,
              "--insecure-loopback",
              "backup",
              "--policy",
              "load"};
  auto run = common::RunProcess(cli);
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const ProcessUse after = ReadUse(scheduler.process->pid());
  result.cpu_seconds = after.cpu_seconds - before.cpu_seconds;
  result.peak_rss_mib = after.peak_rss_mib;
  if (!run.ok()) {
    result.failure = std::string(run.status().message());
  } else {
    // One line per set: "load-000/r0: set ID complete" (or "failed: …").
    const std::string& out = run->stdout_text;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(": set ") != std::string::npos &&
          absl::EndsWith(line, " complete")) {
        ++result.complete;
      }
    }
    if (run->exit_code != 0) {
      result.failure = out.substr(out.size() > 2000 ? out.size() - 2000 : 0) +
                       run->stderr_text;
    }
  }
  fleet.Stop();
  StopScheduler(scheduler);
  return result;
}

}  // namespace
}  // namespace dxbackup::bench

int main(int argc, char** argv) {
  int agents = 10000, peer_agents = 1000, heartbeat = 10, windows = 6,
      window_seconds = 10, sets = 0;
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
      "where dxbackup-scheduler is (default: beside this program)")(
      "sets", po::value(&sets)->default_value(sets),
      "then this many sets at once with --agents connected, against the "
      "same with only the agents that have volumes (0: not measured)");
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
      peer_agents < 1 || sets < 0 || sets > agents) {
    std::cerr << "dxbackup-agents-bench: --agents, --peer-agents, "
                 "--heartbeat-seconds, --windows and --window-seconds must "
                 "be 1 or more, and --sets at most --agents\n";
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
  if (sets == 0) return holds ? 0 : 1;

  using dxbackup::bench::MeasureSets;
  const auto alone = MeasureSets(bin_dir, sets, sets, heartbeat);
  const auto loaded = MeasureSets(bin_dir, agents, sets, heartbeat);
  std::cout << "\n"
            << sets << " sets at once (one volume of 64 KiB each), "
            << "`dxbackup backup --policy`\n\n"
            << "| agents connected | welcomed | sets complete | all ended in "
               "| scheduler CPU | peak RSS | time vs peer | all complete, "
               "within "
            << max_rss_mib << " MiB |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto* r : {&alone, &loaded}) {
    const bool measured = r == &loaded;
    const bool within = r->complete == r->sets && r->welcomed == r->agents &&
                        r->failure.empty() && r->peak_rss_mib <= max_rss_mib;
    if (measured) holds = holds && within;
    std::cout << absl::StrFormat(
        "| %d | %d | %d of %d | %.1f s | %.1f CPU-s | %.0f MiB | %s | %s |\n",
        r->agents, r->welcomed, r->complete, r->sets, r->seconds,
        r->cpu_seconds, r->peak_rss_mib,
        measured ? absl::StrFormat("%.2fx",
                                   r->seconds / std::max(alone.seconds, 0.01))
                 : "1.00x (peer)",
        within ? "yes" : "NO");
    if (!r->failure.empty()) {
      std::cout << "\n(" << r->agents << " agents) the CLI said:\n"
                << r->failure << "\n";
    }
  }
  return holds ? 0 : 1;
}
