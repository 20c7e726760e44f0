// LockingStore is a MemoryStore with S3 Object Lock's rules, for the tests
// of what writes into and removes from a locking bucket: it locks each
// object as a locking store decides (the retention's earliest removal, or
// the write time, plus a day; or exactly the lock asked for), records the
// locks, and refuses to remove an object before its lock ends.
//
// `now_unix` is the store's clock; set it before writes and removals.
// Not thread-safe beyond MemoryStore's own locking: a test drives it from
// one thread.
#ifndef DXBACKUP_TESTS_SUPPORT_LOCKING_STORE_H_
#define DXBACKUP_TESTS_SUPPORT_LOCKING_STORE_H_

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/memory_store.h"

namespace dxbackup::testing {

class LockingStore : public MemoryStore {
 public:
  int64_t now_unix = 0;
  std::map<std::string, int64_t> locks;     // every object begun: its lock
  std::vector<std::string> early_removals;  // removals refused

 protected:
  int64_t LockUntil(int64_t keep_until_unix) const override {
    return std::max(keep_until_unix, now_unix) + 86400;
  }
  absl::StatusOr<std::unique_ptr<scheduler::ObjectSink>> StartObject(
      const std::string& key, int64_t locked_until_unix) override {
    locks[key] = locked_until_unix;
    return MemoryStore::StartObject(key, locked_until_unix);
  }
  absl::Status RemoveObject(const std::string& key) override {
    if (locks[key] > now_unix) {
      early_removals.push_back(key);
      return absl::PermissionDeniedError(key + " is locked");
    }
    return MemoryStore::RemoveObject(key);
  }
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_LOCKING_STORE_H_
