#include "scheduler/replicas/replica_lease.h"

#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"

namespace dxbackup::scheduler {
namespace {

std::chrono::nanoseconds Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

int64_t TtlMs() { return absl::ToInt64Milliseconds(ReplicaLease::kTtl); }

}  // namespace

absl::StatusOr<std::unique_ptr<ReplicaLease>> ReplicaLease::Start(
    ReplicaCatalog* catalog, ReplicaCatalog::Replica replica,
    const common::TimeSource* time, LostFn on_lost) {
  const auto sent = time->Monotonic();
  if (absl::Status s = catalog->RegisterReplica(replica, TtlMs()); !s.ok()) {
    return s;
  }
  std::unique_ptr<ReplicaLease> lease(
      new ReplicaLease(catalog, std::move(replica), time, std::move(on_lost)));
  lease->renewed_sent_ = sent;
  lease->renewer_ = std::thread([l = lease.get()] { l->RenewLoop(); });
  lease->watchdog_ = std::thread([l = lease.get()] { l->WatchLoop(); });
  DXLOG(INFO) << "replica " << lease->id() << " (" << lease->address()
              << ") registered in the catalog";
  return lease;
}

ReplicaLease::ReplicaLease(ReplicaCatalog* catalog,
                           ReplicaCatalog::Replica replica,
                           const common::TimeSource* time, LostFn on_lost)
    : catalog_(catalog),
      replica_(std::move(replica)),
      time_(time),
      on_lost_(std::move(on_lost)) {}

ReplicaLease::~ReplicaLease() {
  bool lost;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    lost = lost_;
  }
  renew_cv_.notify_all();
  watch_cv_.notify_all();
  renewer_.join();
  watchdog_.join();
  if (lost) return;
  if (absl::Status s = catalog_->RetireReplica(id()); !s.ok()) {
    DXLOG(WARNING) << "replica " << id() << " could not retire: " << s.message()
                   << "; its deployments are free once its "
                   << "lease lapses";
  }
}

std::string ReplicaLease::NewId(const std::string& host) {
  std::random_device random;
  return absl::StrFormat("%s-%08x", host.empty() ? "scheduler" : host,
                         static_cast<uint32_t>(random()));
}

bool ReplicaLease::TrustedLocked() const {
  return !lost_ && time_->Monotonic() - renewed_sent_ < Chrono(kTrustFor);
}

bool ReplicaLease::Trusted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return TrustedLocked();
}

bool ReplicaLease::Owns(const std::string& namespace_,
                        const std::string& release) const {
  std::lock_guard<std::mutex> lock(mu_);
  return TrustedLocked() && owned_.count({namespace_, release}) != 0;
}

absl::StatusOr<ReplicaCatalog::Owner> ReplicaLease::Claim(
    const std::string& namespace_, const std::string& release) {
  if (!Trusted()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "scheduler replica ", id(), " cannot claim ", namespace_, "/", release,
        ": its lease in the catalog was not renewed within ",
        absl::FormatDuration(kTrustFor)));
  }
  absl::StatusOr<ReplicaCatalog::Owner> owner =
      catalog_->ClaimDeployment(namespace_, release, id());
  std::lock_guard<std::mutex> lock(mu_);
  if (!owner.ok()) {
    if (absl::IsFailedPrecondition(owner.status())) LoseLocked(owner.status());
    return owner.status();
  }
  // Mine with the takeover owed changes nothing here: the answer may be
  // older than the CompleteTakeover that made it owned.
  if (owner->replica_id != id()) {
    owned_.erase({namespace_, release});
  } else if (!owner->claimed) {
    owned_.insert({namespace_, release});
  }
  return owner;
}

absl::Status ReplicaLease::CompleteTakeover(const std::string& namespace_,
                                            const std::string& release) {
  absl::Status done = catalog_->CompleteTakeover(namespace_, release, id());
  if (!done.ok()) return done;
  std::lock_guard<std::mutex> lock(mu_);
  if (!lost_) owned_.insert({namespace_, release});
  return absl::OkStatus();
}

absl::Status ReplicaLease::Release(const std::string& namespace_,
                                   const std::string& release) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    owned_.erase({namespace_, release});
  }
  return catalog_->ReleaseDeployment(namespace_, release, id());
}

void ReplicaLease::LoseLocked(const absl::Status& why) {
  if (lost_) return;
  lost_ = true;
  lost_why_ = why;
  owned_.clear();
  watch_cv_.notify_all();
}

void ReplicaLease::RenewLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    time_->WaitUntil(lock, renew_cv_, time_->Monotonic() + Chrono(kRenewEvery),
                     [this] { return stopping_; });
    if (stopping_) return;
    if (lost_) continue;  // a lapsed lease is not renewed
    lock.unlock();
    const auto sent = time_->Monotonic();
    const absl::Status renewed = catalog_->RenewReplica(id(), TtlMs());
    lock.lock();
    if (renewed.ok()) {
      if (sent > renewed_sent_) renewed_sent_ = sent;
    } else if (absl::IsFailedPrecondition(renewed)) {
      LoseLocked(renewed);
    } else {
      DXLOG(WARNING) << "replica " << id()
                     << " could not renew its lease: " << renewed.message()
                     << " (it stops if none succeeds within "
                     << absl::FormatDuration(kTrustFor) << ")";
    }
  }
}

void ReplicaLease::WatchLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!lost_ && !TrustedLocked()) {
      LoseLocked(absl::DeadlineExceededError(absl::StrCat(
          "scheduler replica ", id(),
          " renewed its lease in the catalog "
          "for ",
          absl::FormatDuration(kTrustFor),
          " not once: another replica may take its deployments over")));
    }
    if (lost_ && !lost_reported_) {
      lost_reported_ = true;
      const absl::Status why = lost_why_;
      lock.unlock();
      DXLOG(ERROR) << why.message();
      on_lost_(why);
      lock.lock();
      continue;
    }
    // Once lost and told, it only waits to be stopped.
    const auto deadline = lost_ ? time_->Monotonic() + std::chrono::hours(1)
                                : renewed_sent_ + Chrono(kTrustFor);
    time_->WaitUntil(lock, watch_cv_, deadline, [this] {
      return stopping_ || (lost_ && !lost_reported_);
    });
  }
}

}  // namespace dxbackup::scheduler
