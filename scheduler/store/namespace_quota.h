// NamespaceQuota keeps the bytes a namespace holds in a store (committed
// plus being written) at or under a limit, for every ArtifactStore.
//
//   quota.Recount(ns, committed_bytes);   // at the start of each write
//   quota.Reserve(ns, n);                 // before n more bytes are written
//   quota.Settle(ns, written, committed); // when that write ends
//
// All calls are no-ops without a limit (0). Thread-safe.
#ifndef DXBACKUP_SCHEDULER_STORE_NAMESPACE_QUOTA_H_
#define DXBACKUP_SCHEDULER_STORE_NAMESPACE_QUOTA_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/status.h"

namespace dxbackup::scheduler {

class NamespaceQuota {
 public:
  // Set before any write.
  void set_limit(uint64_t bytes) { limit_ = bytes; }
  bool enabled() const { return limit_ != 0; }

  // What `ns` keeps committed, as counted now: removals since are freed.
  void Recount(const std::string& ns, uint64_t committed_bytes);
  // ResourceExhausted, naming `ns`, when `bytes` more would pass the limit.
  absl::Status Reserve(const std::string& ns, uint64_t bytes);
  // A write of `bytes` (all reserved) ended, kept or not.
  void Settle(const std::string& ns, uint64_t bytes, bool committed);

 private:
  uint64_t limit_ = 0;
  std::mutex mu_;
  struct Usage {
    uint64_t stored = 0;   // as last recounted, plus commits since
    uint64_t writing = 0;  // reserved by writes not yet ended
  };
  std::map<std::string, Usage> usage_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_STORE_NAMESPACE_QUOTA_H_
