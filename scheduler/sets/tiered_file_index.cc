#include "scheduler/sets/tiered_file_index.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "scheduler/catalog/find_glob.h"

namespace dxbackup::scheduler {
namespace {

// As the catalogs: at most this many matches a call.
constexpr int kMaxFindResults = 10000;

v1::IndexedFile Located(const v1::BackupSet& set, const std::string& target) {
  v1::IndexedFile f;
  f.set_set_id(set.id());
  f.set_target(target);
  f.set_set_started_unix(set.started_unix());
  f.set_namespace_(set.namespace_());
  f.set_release(set.release());
  return f;
}

}  // namespace

bool UnderPrefix(const std::string& path, std::string prefix) {
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (prefix.empty()) return true;
  return path == prefix ||
         (absl::StartsWith(path, prefix) && path[prefix.size()] == '/');
}

absl::Status TieredFileIndex::ForEachFile(
    const v1::ListFilesRequest& request,
    const std::function<bool(const v1::IndexedFile&)>& visit) {
  absl::StatusOr<std::vector<v1::Artifact>> artifacts =
      sets_->ListArtifacts(request.set_id());
  if (!artifacts.ok()) return artifacts.status();
  const auto none_moved = [](const std::vector<v1::Artifact>& list) {
    return std::none_of(list.begin(), list.end(), [](const v1::Artifact& a) {
      return a.has_file_list();
    });
  };
  if (none_moved(*artifacts)) {
    bool any = false;
    absl::Status s = rows_->ForEachFile(request, [&](const v1::IndexedFile& f) {
      any = true;
      return visit(f);
    });
    if (!s.ok() || any) return s;
    // None: the rows may have moved since the artifacts were read.
    artifacts = sets_->ListArtifacts(request.set_id());
    if (!artifacts.ok()) return artifacts.status();
    if (none_moved(*artifacts)) return absl::OkStatus();
  }
  absl::StatusOr<std::vector<crypto::Identity>> given =
      crypto::ParseGivenIdentities(request.identities());
  if (!given.ok()) return given.status();
  absl::StatusOr<v1::BackupSet> set = sets_->GetSet(request.set_id());
  if (!set.ok()) return set.status();

  bool go_on = true;
  // Artifacts come in target order, as the catalog's rows do.
  for (v1::Artifact& artifact : *artifacts) {
    if (!go_on) break;
    if (!request.target().empty() && artifact.target() != request.target()) {
      continue;
    }
    if (!artifact.has_file_list()) {
      v1::ListFilesRequest one = request;
      one.set_target(artifact.target());
      bool any = false;
      absl::Status s = rows_->ForEachFile(one, [&](const v1::IndexedFile& f) {
        any = true;
        return go_on = visit(f);
      });
      if (!s.ok()) return s;
      if (any) continue;
      // None: the rows may have moved since the artifacts were read.
      absl::StatusOr<std::vector<v1::Artifact>> again =
          sets_->ListArtifacts(request.set_id());
      if (!again.ok()) return again.status();
      for (v1::Artifact& now : *again) {
        if (now.target() == artifact.target()) artifact = std::move(now);
      }
      if (!artifact.has_file_list()) continue;
    }
    v1::IndexedFile f = Located(*set, artifact.target());
    absl::Status s =
        lists_->ForEach(artifact, *given, [&](v1::FileEntry& entry) {
          if (!UnderPrefix(entry.path(), request.path_prefix())) return true;
          *f.mutable_entry() = std::move(entry);
          return go_on = visit(f);
        });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

bool TieredFileIndex::Removed(const std::string& set_id) {
  absl::StatusOr<v1::BackupSet> set = sets_->GetSet(set_id);
  return absl::IsNotFound(set.status()) ||
         (set.ok() && set->status() == v1::SET_EXPIRING);
}

absl::StatusOr<v1::FindFilesResponse> TieredFileIndex::FindFiles(
    const v1::FindFilesRequest& request) {
  if (request.older() && request.namespace_().empty()) {
    return absl::InvalidArgumentError(
        "find --older needs --namespace: it reads each older set's file "
        "list from the store");
  }
  absl::StatusOr<v1::FindFilesResponse> found = rows_->FindFiles(request);
  if (!found.ok()) return found;
  if (!request.older()) {
    absl::StatusOr<bool> any =
        rows_->AnyStoredFileLists(request.namespace_(), request.release());
    if (!any.ok()) return any.status();
    found->set_older_not_searched(*any);
    return found;
  }
  if (found->truncated()) return found;
  // What the rows gave: a set moved since is not searched twice.
  std::set<std::pair<std::string, std::string>> from_rows;
  for (const v1::IndexedFile& f : found->files()) {
    from_rows.emplace(f.set_id(), f.target());
  }
  absl::StatusOr<std::vector<crypto::Identity>> given =
      crypto::ParseGivenIdentities(request.identities());
  if (!given.ok()) return given.status();
  absl::StatusOr<std::vector<StoredFileListOf>> lists =
      rows_->StoredFileLists(request.namespace_(), request.release());
  if (!lists.ok()) return lists.status();
  const int limit =
      request.limit() > 0 ? std::min(request.limit(), kMaxFindResults) : 1000;
  for (const StoredFileListOf& list : *lists) {
    if (from_rows.count({list.artifact.set_id(), list.artifact.target()})) {
      continue;
    }
    v1::BackupSet set;
    set.set_id(list.artifact.set_id());
    set.set_started_unix(list.set_started_unix);
    set.set_namespace_(list.namespace_);
    set.set_release(list.release);
    v1::IndexedFile f = Located(set, list.artifact.target());
    absl::Status s =
        lists_->ForEach(list.artifact, *given, [&](v1::FileEntry& entry) {
          if (entry.unchanged() ||
              !FindPatternMatchesPath(request.pattern(), entry.path())) {
            return true;
          }
          if (found->files_size() == limit) {
            found->set_truncated(true);
            return false;
          }
          *f.mutable_entry() = std::move(entry);
          *found->add_files() = f;
          return true;
        });
    if (absl::IsNotFound(s) && Removed(list.artifact.set_id())) continue;
    if (!s.ok()) return s;
    if (found->truncated()) break;
  }
  return found;
}

}  // namespace dxbackup::scheduler
