#include "scheduler/store/store_reconcile.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dxbackup::scheduler {

absl::StatusOr<std::vector<std::string>> Reconcile(
    ArtifactStore& store, const std::vector<std::string>& known_keys,
    const std::function<bool(const std::string& set_id)>& set_known) {
  absl::StatusOr<std::vector<StoredObject>> objects = store.List("");
  if (!objects.ok()) return objects.status();
  const std::set<std::string> known(known_keys.begin(), known_keys.end());
  // First only decide: nothing goes unless every unknown object is an
  // orphan of a set the catalog knows.
  std::vector<std::string> orphans;
  std::set<std::string> sets_seen;
  for (const StoredObject& object : *objects) {
    if (known.count(object.key) != 0) continue;
    const std::vector<std::string> parts = absl::StrSplit(object.key, '/');
    const std::string set_id = parts.size() >= 4 ? parts[2] : "";
    if (sets_seen.insert(set_id).second &&
        (set_id.empty() || !set_known(set_id))) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the store holds ", object.key,
          " of a set the catalog does not "
          "know: the catalog is not this store's (lost, replaced, another "
          "installation's, or moved to PostgreSQL without `dxbackup-scheduler "
          "migrate-catalog`). Nothing was removed. Point the scheduler at the "
          "catalog that goes with this store; to start over with an empty "
          "catalog, empty the store first"));
    }
    orphans.push_back(object.key);
  }
  absl::StatusOr<std::vector<std::string>> removed = store.RemoveUnfinished();
  if (!removed.ok()) return removed.status();
  for (const std::string& key : orphans) {
    if (absl::Status s = store.Remove(key); !s.ok()) return s;
    removed->push_back(key);
  }
  return removed;
}

}  // namespace dxbackup::scheduler
