// SetLeases: the sets being read now (a restore's, a drill's, a
// verification's, an export's), so that retention and `delete` leave them
// until the reading ended: a set removed under a running restore would
// fail it halfway, or be taken for corrupt. A reader takes a lease once it
// has found the set, and reads the set again (it may have been removed
// just before); the lease goes with Lease's destructor.
//
//   auto lease = leases.Take(set_id, "restore restore-…");
//   if (!lease.ok()) return lease.status();   // being removed
//   ... read the set's artifacts ...
//
// The remover asks first: BeginRemoval refuses a set being read, and
// while it removes one, no lease on that set is given. So a set is never
// read and removed at once, and neither side waits for the other.
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_SETS_SET_LEASES_H_
#define DXBACKUP_SCHEDULER_SETS_SET_LEASES_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace dxbackup::scheduler {

class SetLeases {
 public:
  // Releases its set when destroyed; movable, not copyable. A default
  // Lease holds nothing.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { Release(); }
    void Release();

   private:
    friend class SetLeases;
    SetLeases* leases_ = nullptr;
    uint64_t id_ = 0;
  };

  // `reader` says who reads, for the reasons retention and `delete` give
  // ("restore restore-20261128T164500Z-3fa2"). NotFound while the set is
  // being removed.
  absl::StatusOr<Lease> Take(const std::string& set_id,
                             const std::string& reader);
  // Each set read now, with its first reader.
  std::map<std::string, std::string> Readers() const;

  // Before removing `set_id`: false when it is being read (its reader in
  // `*reader`); otherwise true, and no lease is given on it until
  // FinishRemoval.
  bool BeginRemoval(const std::string& set_id, std::string* reader);
  void FinishRemoval(const std::string& set_id);

 private:
  struct Reading {
    std::string set_id, reader;
  };
  void Release(uint64_t id);

  mutable std::mutex mu_;
  uint64_t next_ = 1;
  std::map<uint64_t, Reading> readings_;  // by lease
  std::set<std::string> removing_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_SET_LEASES_H_
