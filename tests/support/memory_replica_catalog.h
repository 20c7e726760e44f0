// MemoryReplicaCatalog: ReplicaCatalog in memory, for unit tests, keeping
// the contract the SQL engines keep (catalog_contract_test checks all).
// Its clock is the catalog server's: the machine's by default, or a
// test's (SetClock), so that leases expire on simulated time.
// Thread-safe.
#ifndef DXBACKUP_TESTS_SUPPORT_MEMORY_REPLICA_CATALOG_H_
#define DXBACKUP_TESTS_SUPPORT_MEMORY_REPLICA_CATALOG_H_

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scheduler/catalog/replica_catalog.h"

namespace dxbackup::testing {

class MemoryReplicaCatalog : public scheduler::ReplicaCatalog {
 public:
  // Milliseconds since the epoch.
  using ClockFn = std::function<int64_t()>;

  void SetClock(ClockFn now_ms) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ms_ = std::move(now_ms);
  }

  absl::Status RegisterReplica(const Replica& replica,
                               int64_t ttl_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, added] = replicas_.try_emplace(
        replica.id, Lease{replica.address, now_ms_() + ttl_ms});
    if (!added) {
      return absl::AlreadyExistsError(
          absl::StrCat("scheduler replica ", replica.id,
                       " is already registered in the catalog"));
    }
    return absl::OkStatus();
  }
  absl::Status RenewReplica(const std::string& id, int64_t ttl_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!LiveLocked(id)) return Lapsed(id);
    replicas_[id].expires_ms = now_ms_() + ttl_ms;
    return absl::OkStatus();
  }
  absl::Status RetireReplica(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    replicas_.erase(id);
    for (auto it = owners_.begin(); it != owners_.end();) {
      it = it->second.replica == id ? owners_.erase(it) : std::next(it);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Replica>> LiveReplicas() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Replica> live;
    for (const auto& [id, lease] : replicas_) {
      if (LiveLocked(id)) live.push_back({id, lease.address});
    }
    return live;
  }
  absl::StatusOr<Owner> ClaimDeployment(const std::string& namespace_,
                                        const std::string& release,
                                        const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!LiveLocked(id)) return Lapsed(id);
    Ownership& owner = owners_[{namespace_, release}];
    if (owner.replica.empty() ||
        (owner.replica != id && !LiveLocked(owner.replica))) {
      owner = Ownership{
          id, owner.takeover_owed ? owner.previous : owner.replica, true};
    }
    if (owner.replica == id) {
      return Owner{id, replicas_[id].address, owner.takeover_owed,
                   owner.takeover_owed ? owner.previous : ""};
    }
    return Owner{owner.replica, replicas_[owner.replica].address, false, ""};
  }
  absl::Status CompleteTakeover(const std::string& namespace_,
                                const std::string& release,
                                const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owners_.find({namespace_, release});
    if (it == owners_.end() || it->second.replica != id) {
      return absl::FailedPreconditionError(
          absl::StrCat("scheduler replica ", id, " does not own ", namespace_,
                       "/", release));
    }
    it->second.takeover_owed = false;
    return absl::OkStatus();
  }
  absl::Status ReleaseDeployment(const std::string& namespace_,
                                 const std::string& release,
                                 const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owners_.find({namespace_, release});
    if (it != owners_.end() && it->second.replica == id) owners_.erase(it);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Deployment>> OwnedDeployments(
      const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Deployment> owned;
    if (!LiveLocked(id)) return owned;
    for (const auto& [deployment, owner] : owners_) {
      if (owner.replica == id) {
        owned.push_back({deployment.first, deployment.second});
      }
    }
    return owned;
  }

 private:
  struct Lease {
    std::string address;
    int64_t expires_ms = 0;
  };

  bool LiveLocked(const std::string& id) const {
    auto it = replicas_.find(id);
    return it != replicas_.end() && it->second.expires_ms > now_ms_();
  }
  static absl::Status Lapsed(const std::string& id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "scheduler replica ", id, "'s lease in the catalog has lapsed"));
  }

  std::mutex mu_;
  ClockFn now_ms_ = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  std::map<std::string, Lease> replicas_;
  struct Ownership {
    std::string replica;
    std::string previous;  // whose unfinished work the takeover ends
    bool takeover_owed = false;
  };
  std::map<std::pair<std::string, std::string>, Ownership> owners_;
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_MEMORY_REPLICA_CATALOG_H_
