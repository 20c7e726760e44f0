#include "scheduler/store/store_reconcile.h"

#include <set>

namespace dxbackup::scheduler {

absl::StatusOr<std::vector<std::string>> Reconcile(
    ArtifactStore& store, const std::vector<std::string>& known_keys) {
  absl::StatusOr<std::vector<std::string>> removed = store.RemoveUnfinished();
  if (!removed.ok()) return removed.status();
  absl::StatusOr<std::vector<StoredObject>> objects = store.List("");
  if (!objects.ok()) return objects.status();
  const std::set<std::string> known(known_keys.begin(), known_keys.end());
  for (const StoredObject& object : *objects) {
    if (known.count(object.key) != 0) continue;
    if (absl::Status s = store.Remove(object.key); !s.ok()) return s;
    removed->push_back(object.key);
  }
  return removed;
}

}  // namespace dxbackup::scheduler
