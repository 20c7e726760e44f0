#include "scheduler/server/standby.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/log.h"
#include "scheduler/catalog/catalog_lock.h"
#include "scheduler/postgres/pg_connection.h"

namespace dxbackup::scheduler {
namespace {

constexpr auto kTryEvery = std::chrono::seconds(2);
constexpr auto kCheckEvery = std::chrono::seconds(3);
// An active scheduler whose lock was last seen held longer ago than this
// stops (a check that hangs counts as failed); a scheduler that takes the
// lock waits until this long has passed since the last active one's last
// confirmation before it changes anything, so that one cut off from the
// catalog has stopped by then.
constexpr auto kLockDeadline = std::chrono::seconds(15);

class Watcher : public ActiveScheduler {
 public:
  explicit Watcher(std::unique_ptr<CatalogLock> lock)
      : lock_(std::move(lock)),
        epoch_(lock_->epoch()),
        last_held_(Now()),
        checker_([this] { Check(); }),
        watchdog_([this] { Watchdog(); }) {}
  ~Watcher() override {
    stop_ = true;
    checker_.join();
    watchdog_.join();
  }
  int64_t epoch() const override { return epoch_; }
  bool RecentlyConfirmed() const override {
    return std::chrono::milliseconds(Now() - last_held_) < 2 * kCheckEvery;
  }

 private:
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // Checks the lock every kCheckEvery; a lost one stops the process.
  void Check() {
    while (!stop_) {
      std::this_thread::sleep_for(kCheckEvery);
      if (stop_) return;
      if (absl::Status s = lock_->Check(); !s.ok()) {
        DXLOG(ERROR) << s.message() << ": stopping at once";
        std::_Exit(1);
      }
      last_held_ = Now();
    }
  }
  // Stops the process when checks stopped succeeding (one hangs in libpq).
  void Watchdog() {
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const auto silent = std::chrono::milliseconds(Now() - last_held_);
      if (!stop_ && silent > kLockDeadline) {
        DXLOG(ERROR) << "the active scheduler's lock on the catalog was not "
                        "confirmed for "
                     << silent.count() / 1000
                     << " s (the catalog's PostgreSQL does not answer); "
                        "another scheduler may be active: stopping at once";
        std::_Exit(1);
      }
    }
  }

  std::unique_ptr<CatalogLock> lock_;  // used by checker_ only
  const int64_t epoch_;
  std::atomic<int64_t> last_held_;
  std::atomic<bool> stop_{false};
  std::thread checker_;
  std::thread watchdog_;
};

// Every call but the health checks, on a standby: UNAVAILABLE, saying
// why. (A server with no service at all does not start: gRPC refuses one
// whose completion queues nobody polls, health service or not.)
class StandbyAnswers : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* /*context*/) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() {
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "this scheduler is a standby: another one is "
                            "active on the catalog; call that one"));
      }
      void OnDone() override { delete this; }
    };
    return new Reactor;
  }
};

// Health answers while waiting; nullptr when the address cannot be bound
// (the active scheduler has it, on the same host). `answers` outlives it.
std::unique_ptr<grpc::Server> StandbyHealth(const std::string& listen,
                                            const common::TlsFlags& tls,
                                            StandbyAnswers* answers) {
  auto credentials = common::ServerCredentials(tls, listen);
  if (!credentials.ok()) return nullptr;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  // Never beside a scheduler on the same address (gRPC's default would
  // share the port with it, the kernel dealing calls to both).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(listen, *credentials, &port);
  builder.RegisterCallbackGenericService(answers);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return nullptr;
  if (auto* health = server->GetHealthCheckService()) {
    health->SetServingStatus("", false);
    health->SetServingStatus("liveness", true);
    health->SetServingStatus("ready", true);
  }
  return server;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ActiveScheduler>> AwaitActive(
    const v1::SchedulerConfig& config, const std::string& listen,
    const common::TlsFlags& tls, const std::function<bool()>& stop) {
  if (!config.catalog().has_postgres()) return nullptr;
  const v1::Database& server = config.catalog().postgres();
  absl::StatusOr<std::unique_ptr<CatalogLock>> lock = CatalogLock::Open(server);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<bool> held = (*lock)->TryAcquire();
  if (!held.ok()) return held.status();
  if (!*held) {
    DXLOG(INFO) << "standby: another scheduler is active on the catalog ("
                << DescribeDatabase(server) << "); waiting to take over";
    StandbyAnswers answers;
    std::unique_ptr<grpc::Server> health = StandbyHealth(listen, tls, &answers);
    if (health != nullptr) {
      DXLOG(INFO) << "standby: answering health checks on " << listen
                  << " (ready, not serving)";
    }
    while (!*held) {
      const auto until = std::chrono::steady_clock::now() + kTryEvery;
      while (std::chrono::steady_clock::now() < until) {
        if (stop()) {
          if (health) health->Shutdown();
          return absl::CancelledError("stopped while a standby");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      held = (*lock)->TryAcquire();
      if (!held.ok()) return held.status();
    }
    DXLOG(INFO) << "standby: the active scheduler is gone; taking over";
    if (health) health->Shutdown();
  }
  // An active scheduler that lost its session, but not its process, stops
  // within kLockDeadline of its last confirmation (its watchdog): nothing
  // is changed before that has passed.
  absl::StatusOr<int64_t> since = (*lock)->SecondsSinceLastConfirmed();
  if (!since.ok()) return since.status();
  if (*since <= kLockDeadline.count()) {
    const int64_t wait = kLockDeadline.count() + 1 - *since;
    DXLOG(INFO) << "the last active scheduler confirmed its lock " << *since
                << " s ago: waiting " << wait
                << " s, until it has surely stopped";
    std::this_thread::sleep_for(std::chrono::seconds(wait));
  }
  return std::unique_ptr<ActiveScheduler>(new Watcher(*std::move(lock)));
}

}  // namespace dxbackup::scheduler
