// dxbackup-agent: the sidecar. Parses flags, builds an AgentSession and runs
// it until SIGTERM or SIGINT.
#include <grpcpp/grpcpp.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <clocale>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "agent/agent_session.h"
#include "agent/volume_identity.h"
#include "common/log.h"
#include "common/resource_names.h"
#include "common/scheduler_dialer.h"
#include "common/tls_options.h"

namespace po = boost::program_options;
using dxbackup::agent::AgentIdentity;
using dxbackup::agent::AgentSession;
using dxbackup::agent::BackupJobSettings;

namespace {

std::string DefaultPodName() {
  if (const char* pod = std::getenv("POD_NAME")) return pod;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_ALL, "");
  // Debian's Abseil is built with assertions on, so every absl::Mutex
  // lock (gRPC's among them) also maintains a lock-order graph for
  // deadlock detection: 15% of a scheduler's CPU with 10,000 agents
  // connected (dxbackup-agents-bench, perf). Off in the daemons; the tests
  // keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // A sidecar stays small: few malloc arenas for its job threads, and
  // buffers of 256 KiB and more mapped and unmapped, not kept in a heap.
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  std::string scheduler, ns, release, pod, component, token_file;
  std::vector<std::string> volumes, volume_claims, excludes, labels;
  uint64_t limit_kib = 0;
  int upload_stall_seconds = 60;
  std::string log_format;
  po::options_description options("dxbackup-agent options");
  options.add_options()("help", "show this help")(
      "scheduler", po::value(&scheduler)->required(),
      "scheduler address HOST:PORT")("namespace", po::value(&ns)->required(),
                                     "Kubernetes namespace")(
      "release", po::value(&release)->required(), "DX release name")(
      "pod", po::value(&pod)->default_value(DefaultPodName()),
      "pod name (default: $POD_NAME or the host name)")(
      "component", po::value(&component)->required(),
      "core, dam or remote-search")(
      "volume", po::value(&volumes)->required(),
      "NAME=PATH of a volume to back up (repeatable)")(
      "volume-claim", po::value(&volume_claims),
      "NAME=CLAIM: the volume is that PersistentVolumeClaim, shared by the "
      "component's pods (repeatable)")("exclude", po::value(&excludes),
                                       "glob to leave out (repeatable)")(
      "label", po::value(&labels),
      "KEY=VALUE label policies can select on (repeatable)")(
      "token-file", po::value(&token_file),
      "file holding this agent's token (read again at every call)")(
      "limit-upload-kib", po::value(&limit_kib)->default_value(0),
      "upload bandwidth limit in KiB/s, 0 for none")(
      "upload-stall-seconds",
      po::value(&upload_stall_seconds)->default_value(60),
      "cut and resume an upload the scheduler has acknowledged nothing of "
      "for this long")("log-format",
                       po::value(&log_format)->default_value("text"),
                       "text, or json for one JSON object per line");
  dxbackup::common::TlsFlags tls;
  dxbackup::common::AddTlsOptions(options, &tls, /*server=*/false);
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << options << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "dxbackup-agent: " << e.what() << "\n" << options << "\n";
    return 2;
  }
  if (!dxbackup::common::ConfigureLogging(log_format)) {
    std::cerr << "dxbackup-agent: --log-format must be text or json\n";
    return 2;
  }
  if (component != "core" && component != "dam" &&
      component != "remote-search") {
    std::cerr << "dxbackup-agent: --component must be core, dam or "
                 "remote-search, not \""
              << component << "\"\n";
    return 2;
  }

  AgentIdentity identity{ns, release, pod, component, {}, {}};
  for (const std::string& label : labels) {
    const size_t eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "dxbackup-agent: --label \"" << label
                << "\" must be KEY=VALUE\n";
      return 2;
    }
    identity.labels[label.substr(0, eq)] = label.substr(eq + 1);
  }
  std::map<std::string, std::string> claims;  // volume -> claim
  for (const std::string& spec : volume_claims) {
    const size_t eq = spec.find('=');
    const std::string claim =
        eq == std::string::npos ? "" : spec.substr(eq + 1);
    if (eq == std::string::npos || eq == 0 ||
        !dxbackup::common::CheckDnsSubdomain("claim", claim).ok()) {
      std::cerr << "dxbackup-agent: --volume-claim \"" << spec
                << "\" must be NAME=CLAIM, CLAIM a PersistentVolumeClaim's "
                   "name\n";
      return 2;
    }
    claims[spec.substr(0, eq)] = claim;
  }
  for (const std::string& spec : volumes) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size() ||
        spec[eq + 1] != '/') {
      std::cerr << "dxbackup-agent: --volume \"" << spec
                << "\" must be NAME=/absolute/path\n";
      return 2;
    }
    dxbackup::v1::Volume volume;
    volume.set_name(spec.substr(0, eq));
    volume.set_path(spec.substr(eq + 1));
    if (access(volume.path().c_str(), R_OK | X_OK) != 0) {
      std::cerr << "dxbackup-agent: volume " << volume.name() << " at "
                << volume.path() << " is not a readable directory\n";
      return 2;
    }
    auto claim = claims.find(volume.name());
    volume.set_shared_id(dxbackup::agent::VolumeIdentity(
        volume.path(), claim == claims.end() ? "" : claim->second));
    if (claim != claims.end()) claims.erase(claim);
    identity.volumes.push_back(volume);
  }
  if (!claims.empty()) {
    std::cerr << "dxbackup-agent: --volume-claim names volume "
              << claims.begin()->first << ", which no --volume gives\n";
    return 2;
  }

  // Signals are taken by a thread of their own, so that stopping is an
  // ordinary call on the session.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 8 << 20);
  auto dialer = dxbackup::common::SchedulerDialer::Create(scheduler, tls, args,
                                                          token_file);
  if (!dialer.ok()) {
    std::cerr << "dxbackup-agent: " << dialer.status().message() << "\n";
    return 2;
  }
  if (upload_stall_seconds <= 0) {
    std::cerr << "dxbackup-agent: --upload-stall-seconds must be positive\n";
    return 2;
  }
  BackupJobSettings settings;
  settings.excludes = excludes;
  settings.upload.limit_bytes_per_second = limit_kib * 1024;
  settings.upload.stall_timeout = std::chrono::seconds(upload_stall_seconds);
  AgentSession session(identity, settings,
                       [&dialer](const std::string& replica, bool data) {
                         return dialer->Dial(replica, data);
                       });

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    DXLOG(INFO) << "signal " << sig << ": stopping";
    session.Stop();
  });
  stopper.detach();
  DXLOG(INFO) << "dxbackup-agent " << DXBACKUP_VERSION << " for " << ns << "/"
              << release << " pod " << pod << ", scheduler " << scheduler;
  session.Run();
  // What is left is the process's exit (and a sanitizer's leak check): a
  // stop that never gets here hung in the session.
  DXLOG(INFO) << "stopped";
  return 0;
}
