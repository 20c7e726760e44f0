#include "scheduler/store/store_reconcile.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dxbackup::scheduler {

absl::StatusOr<Reconciled> Reconcile(
    ArtifactStore& store, const std::vector<std::string>& known_keys,
    const std::function<bool(const std::string& set_id)>& set_known,
    const std::string& prefix) {
  absl::StatusOr<std::vector<StoredObject>> objects = store.List(prefix);
  if (!objects.ok()) return objects.status();
  const std::set<std::string> known(known_keys.begin(), known_keys.end());
  // First only decide; nothing goes if the catalog is not the store's.
  Reconciled out;
  std::vector<std::string> orphans;
  std::map<std::string, bool> set_is_known;
  bool any_known = false;
  for (const StoredObject& object : *objects) {
    if (known.count(object.key) != 0) {
      any_known = true;
      continue;
    }
    const std::vector<std::string> parts = absl::StrSplit(object.key, '/');
    const std::string set_id = parts.size() >= 4 ? parts[2] : "";
    auto [it, inserted] = set_is_known.try_emplace(set_id, false);
    if (inserted) it->second = !set_id.empty() && set_known(set_id);
    (it->second ? orphans : out.left).push_back(object.key);
    any_known = any_known || it->second;
  }
  if (prefix.empty() && !any_known && !out.left.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the store holds ", out.left.size(), " object(s), such as ",
        out.left.front(),
        ", of no set the catalog knows: the catalog is not this store's "
        "(lost, replaced, another installation's, or moved to PostgreSQL "
        "without `dxbackup-scheduler migrate-catalog`). Nothing was removed. "
        "Point the scheduler at the catalog that goes with this store; to "
        "start over with an empty catalog, empty the store first"));
  }
  absl::StatusOr<std::vector<std::string>> unfinished =
      store.RemoveUnfinished(prefix);
  if (!unfinished.ok()) return unfinished.status();
  out.removed = *std::move(unfinished);
  for (const std::string& key : orphans) {
    if (absl::Status s = store.Remove(key); !s.ok()) return s;
    out.removed.push_back(key);
  }
  return out;
}

}  // namespace dxbackup::scheduler
