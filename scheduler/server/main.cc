// dxbackup-scheduler: parses flags, loads the config, starts the
// SchedulerServer and runs it until SIGTERM or SIGINT; or, as
// `dxbackup-scheduler migrate-catalog ...`, copies a SQLite catalog into
// PostgreSQL (migrate_catalog.h).
#include <signal.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <ctime>
#include <iostream>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "common/tls_options.h"
#include "scheduler/config/scheduler_config.h"
#include "scheduler/kubernetes/active_pod_label.h"
#include "scheduler/server/active_pod_marker.h"
#include "scheduler/server/migrate_catalog.h"
#include "scheduler/server/scheduler_server.h"
#include "scheduler/server/standby.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  // Debian's Abseil is built with assertions on, so every absl::Mutex
  // lock (gRPC's among them) also maintains a lock-order graph for
  // deadlock detection: 15% of the scheduler's CPU with 10,000 agents
  // connected (dxbackup-agents-bench, perf). Off in the daemons; the tests
  // keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (argc > 1 && std::string(argv[1]) == "migrate-catalog") {
    return dxbackup::scheduler::MigrateCatalogMain(argc - 1, argv + 1);
  }
  dxbackup::scheduler::SchedulerServer::Options options;
  std::string config_path, log_format, label_pod, peer_pods;
  int drain_seconds = 0;
  po::options_description desc("dxbackup-scheduler options");
  desc.add_options()("help", "show this help")(
      "listen", po::value(&options.listen)->default_value(options.listen),
      "address to serve agents and the CLI on, HOST:PORT (port 0: any)")(
      "data-dir", po::value(&options.data_dir)->required(),
      "directory for the catalog and the store")(
      "config", po::value(&config_path)->required(), "YAML config file")(
      "metrics-listen", po::value(&options.metrics_listen),
      "serve Prometheus metrics on http://HOST:PORT/metrics (port 0: any)")(
      "web-listen", po::value(&options.web_listen),
      "serve the read-only web dashboard on HOST:PORT (port 0: any); "
      "HTTPS with --tls-cert/--tls-key, plain HTTP only on loopback")(
      "log-format", po::value(&log_format)->default_value("text"),
      "text, or json for one JSON object per line")(
      "drain-seconds", po::value(&drain_seconds)->default_value(0),
      "on SIGTERM, answer health probes NOT_SERVING for this long before "
      "stopping (a second signal stops at once)")(
      "label-active-pod", po::value(&label_pod),
      "NAMESPACE/POD, this scheduler's pod: labelled dxbackup.io/active=true "
      "once active (the label taken off its --peer-pods), unlabelled as a "
      "standby, through the config's kubernetes_api")(
      "peer-pods", po::value(&peer_pods),
      "with --label-active-pod: the label selector (k=v,...) of the "
      "scheduler pods that share the catalog")(
      "advertise", po::value(&options.advertise),
      "HOST:PORT (the pod's IP): run as one of several active replicas "
      "sharing the PostgreSQL catalog, each running the deployments it "
      "owns; the others send agents and the CLI here. Also listened on "
      "when its port is not --listen's, which the replicas then share");
  dxbackup::common::AddTlsOptions(desc, &options.tls, /*server=*/true);
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "dxbackup-scheduler: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  if (drain_seconds < 0) {
    std::cerr << "dxbackup-scheduler: --drain-seconds must be 0 or more\n";
    return 2;
  }
  if (!dxbackup::common::ConfigureLogging(log_format)) {
    std::cerr << "dxbackup-scheduler: --log-format must be text or json\n";
    return 2;
  }
  auto config = dxbackup::scheduler::LoadSchedulerConfig(config_path);
  if (!config.ok()) {
    std::cerr << "dxbackup-scheduler: " << config.status().message() << "\n";
    return 2;
  }
  options.config = std::move(*config);
  // Which pod is active, for a Service that selects it (active_pod_label.h).
  std::unique_ptr<dxbackup::scheduler::ActivePodLabel> pod_label;
  if (!options.advertise.empty() && !label_pod.empty()) {
    std::cerr << "dxbackup-scheduler: --label-active-pod is for one active "
                 "scheduler among standbys; with --advertise every replica "
                 "is active (a Service selects them all)\n";
    return 2;
  }
  if (label_pod.empty() && !peer_pods.empty()) {
    std::cerr << "dxbackup-scheduler: --peer-pods is for --label-active-pod, "
                 "which is not given\n";
    return 2;
  }
  if (!label_pod.empty()) {
    auto pod = dxbackup::scheduler::ActivePodLabel::ParsePod(
        label_pod, "--label-active-pod");
    if (!pod.ok()) {
      std::cerr << "dxbackup-scheduler: " << pod.status().message() << "\n";
      return 2;
    }
    if (peer_pods.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                                    "NOPQRSTUVWXYZ0123456789-_./=,") !=
            std::string::npos ||
        peer_pods.find('=') == std::string::npos) {
      std::cerr << "dxbackup-scheduler: --peer-pods \"" << peer_pods
                << "\": give the scheduler pods' label selector, k=v,...\n";
      return 2;
    }
    auto api =
        dxbackup::scheduler::KubeClient::For(options.config.kubernetes_api());
    if (!api.ok()) {
      std::cerr << "dxbackup-scheduler: --label-active-pod: "
                << api.status().message() << "\n";
      return 2;
    }
    pod_label = std::make_unique<dxbackup::scheduler::ActivePodLabel>(
        *api, *pod, peer_pods);
    // Not the active one until the lock says so; the Service stops
    // sending here at once (a killed active scheduler restarting in its
    // pod would otherwise keep its label until the next one took it off).
    if (absl::Status s = pod_label->MarkStandby(); !s.ok()) {
      DXLOG(WARNING) << "cannot take " << pod_label->kLabel
                     << " off this pod: " << s.message();
    }
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // On a shared PostgreSQL catalog, one scheduler is active at a time;
  // this one may wait as a standby first (standby.h). Active replicas
  // (--advertise) all serve at once.
  const bool replica = !options.advertise.empty();
  auto active =
      replica
          ? absl::StatusOr<
                std::unique_ptr<dxbackup::scheduler::ActiveScheduler>>(nullptr)
          : dxbackup::scheduler::AwaitActive(
                options.config, options.listen, options.tls, [&stop_signals] {
                  const timespec now = {0, 0};
                  return sigtimedwait(&stop_signals, nullptr, &now) > 0;
                });
  if (!active.ok()) {
    std::cerr << "dxbackup-scheduler: " << active.status().message() << "\n";
    return absl::IsCancelled(active.status()) ? 0 : 1;
  }
  if (*active != nullptr) {
    options.catalog_fence_epoch = (*active)->epoch();
    const dxbackup::scheduler::ActiveScheduler* lock = active->get();
    options.still_active = [lock] { return lock->RecentlyConfirmed(); };
  }
  auto server = dxbackup::scheduler::SchedulerServer::Start(
      std::move(options), &dxbackup::common::RealTime());
  if (!server.ok()) {
    std::cerr << "dxbackup-scheduler: " << server.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<dxbackup::scheduler::ActivePodMarker> marker;
  if (pod_label != nullptr) {
    dxbackup::scheduler::ActiveScheduler* lock = active->get();
    dxbackup::scheduler::ActivePodLabel* label = pod_label.get();
    marker = std::make_unique<dxbackup::scheduler::ActivePodMarker>(
        [label](const std::function<bool()>& still_active) {
          return label->MarkActive(still_active);
        },
        [lock] { return lock == nullptr || lock->RecentlyConfirmed(); },
        &dxbackup::common::RealTime());
  }
  DXLOG(INFO) << "dxbackup-scheduler " << DXBACKUP_VERSION << " listening on "
              << "port " << (*server)->port();
  // One machine-readable line on stdout, for scripts that started us with
  // port 0.
  std::cout << "listening on port " << (*server)->port() << std::endl;
  if ((*server)->metrics_port() != 0) {
    DXLOG(INFO) << "metrics on port " << (*server)->metrics_port();
    std::cout << "metrics on port " << (*server)->metrics_port() << std::endl;
  }

  if ((*server)->web_port() != 0) {
    std::cout << "web dashboard on port " << (*server)->web_port() << std::endl;
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  if (drain_seconds > 0) {
    (*server)->Drain();
    DXLOG(INFO) << "signal " << sig << ": NOT_SERVING; stopping in "
                << drain_seconds << " s (a second signal stops now)";
    const timespec drain = {drain_seconds, 0};
    while (sigtimedwait(&stop_signals, nullptr, &drain) < 0 && errno == EINTR) {
    }
  }
  DXLOG(INFO) << "signal " << sig << ": stopping";
  (*server)->Shutdown();
  if (pod_label != nullptr) {
    marker.reset();
    // The Service stops sending here before the process is gone.
    pod_label->MarkStandby().IgnoreError();
  }
  return 0;
}
