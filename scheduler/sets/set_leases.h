// SetLeases: the sets being read now (a restore's, a drill's restores'),
// so that retention keeps them and `delete` refuses them until the reading
// ended: a set removed under a running restore would fail it halfway, or
// be taken for corrupt. A lease is taken once the reader has found the set
// and released when it ends (Lease's destructor).
//
//   SetLeases::Lease lease = leases.Take(set_id, "restore restore-…");
//   ... read the set's artifacts ...
//   // ~Lease: retention may remove it again
//
// The pruner takes Readers() under the set-removal lock; a reader takes
// its lease under the same lock and then reads the set again, so that
// either the pruner sees the lease or the reader sees the set gone.
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_SETS_SET_LEASES_H_
#define DXBACKUP_SCHEDULER_SETS_SET_LEASES_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

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
  // ("restore restore-20261128T164500Z-3fa2").
  Lease Take(const std::string& set_id, const std::string& reader);
  // Each set read now, with its first reader.
  std::map<std::string, std::string> Readers() const;

 private:
  struct Reading {
    std::string set_id, reader;
  };
  void Release(uint64_t id);

  mutable std::mutex mu_;
  uint64_t next_ = 1;
  std::map<uint64_t, Reading> readings_;  // by lease
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_SET_LEASES_H_
