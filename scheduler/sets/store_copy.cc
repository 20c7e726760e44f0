#include "scheduler/sets/store_copy.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/policy/retention.h"
#include "scheduler/sets/set_exporter.h"

namespace dxbackup::scheduler {
namespace {

constexpr char kManifest[] = "manifest.json";

// Copies stored object `key` of `from` to `to_key` of `to`, the digest
// checked on commit.
absl::Status CopyObject(ArtifactStore& from, const std::string& key,
                        ArtifactStore& to, const std::string& to_key,
                        const std::string& sha256, uint64_t bytes,
                        int64_t keep_until_unix) {
  absl::StatusOr<uint64_t> there = to.Stat(to_key);
  if (there.ok() && *there == bytes) return absl::OkStatus();  // a retry
  absl::StatusOr<std::unique_ptr<ArtifactReader>> in = from.Open(key);
  if (!in.ok()) return in.status();
  absl::StatusOr<std::unique_ptr<PendingArtifact>> out =
      to.Begin(to_key, keep_until_unix);
  if (!out.ok()) return out.status();
  absl::Status s = ForEachChunk(**in, [&](const char* data, size_t n) {
    return (*out)->Append(data, n);
  });
  if (!s.ok()) return s;
  return (*out)->Commit(sha256);
}

absl::Status PutText(ArtifactStore& to, const std::string& key,
                     const std::string& text, int64_t keep_until_unix) {
  if (to.Stat(key).ok()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<PendingArtifact>> out =
      to.Begin(key, keep_until_unix);
  if (!out.ok()) return out.status();
  if (absl::Status s = (*out)->Append(text.data(), text.size()); !s.ok()) {
    return s;
  }
  return (*out)->Commit("");
}

absl::StatusOr<std::string> ReadText(ArtifactStore& store,
                                     const std::string& key) {
  absl::StatusOr<std::unique_ptr<ArtifactReader>> in = store.Open(key);
  if (!in.ok()) return in.status();
  std::string text;
  absl::Status s = ForEachChunk(**in, [&](const char* data, size_t n) {
    if (text.size() + n > (16u << 20)) {
      return absl::OutOfRangeError(key + " is larger than a manifest can be");
    }
    text.append(data, n);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return text;
}

}  // namespace

absl::Status CopySetToStore(SetCatalog& sets, ArtifactStore& from,
                            ArtifactStore& to, const std::string& set_id,
                            const v1::Retention& retention, int64_t now_unix) {
  absl::StatusOr<ExportPlan> plan = PlanExport(sets, set_id, now_unix);
  if (!plan.ok()) return plan.status();
  const v1::BackupSet& set = plan->manifest.set();
  const std::string dir =
      ArtifactStore::RelativePath(set.namespace_(), set.release(), set_id, "");
  if (to.Stat(dir + kManifest).ok()) return absl::OkStatus();  // copied
  const int64_t keep_until =
      EarliestRemovalUnder(retention, set.started_unix());
  for (const auto& [artifact, name] : plan->files) {
    absl::Status s =
        CopyObject(from, artifact.path(), to, dir + name, artifact.sha256(),
                   artifact.bytes(), keep_until);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("copying ", artifact.path(),
                                                 ": ", s.message()));
    }
  }
  // Every object before the manifest is locked until no later than this;
  // the texts after it until a few seconds later at most.
  plan->manifest.set_locked_until_unix(to.LockFor(keep_until));
  for (const auto& [name, text] : ExportTexts(*plan)) {
    if (absl::Status s = PutText(to, dir + name, text, keep_until); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status PruneStoreCopies(ArtifactStore& to, const std::string& namespace_,
                              const std::string& release,
                              const v1::Retention& retention,
                              const absl::TimeZone& zone, absl::Time now) {
  const std::string prefix = namespace_ + "/" + release + "/";
  absl::StatusOr<std::vector<StoredObject>> objects = to.List(prefix);
  if (!objects.ok()) return objects.status();
  std::map<std::string, std::vector<std::string>> copies;  // set id -> keys
  for (const StoredObject& o : *objects) {
    const std::string rest = o.key.substr(prefix.size());
    const size_t slash = rest.find('/');
    if (slash == std::string::npos) continue;
    copies[rest.substr(0, slash)].push_back(o.key);
  }
  std::vector<RetentionCandidate> whole;
  std::vector<std::string> unfinished;
  std::map<std::string, int64_t> locked_until;  // by set id, from manifests
  absl::Time newest = absl::InfinitePast();
  for (const auto& [id, keys] : copies) {
    absl::StatusOr<std::string> text =
        ReadText(to, prefix + id + "/" + kManifest);
    if (absl::IsNotFound(text.status())) {
      unfinished.push_back(id);  // no manifest: a copy never finished
      continue;
    }
    if (!text.ok()) {
      // Unreadable now is not missing: decide nothing this time.
      return absl::Status(text.status().code(),
                          absl::StrCat("reading the manifest of copy ", prefix,
                                       id, ": ", text.status().message(),
                                       "; the copies were left as they are"));
    }
    v1::ExportManifest manifest;
    if (!google::protobuf::util::JsonStringToMessage(*text, &manifest).ok()) {
      DXLOG(WARNING) << "copy " << prefix << id
                     << " has an unreadable manifest; left alone";
      continue;
    }
    RetentionCandidate copy;
    copy.id = id;
    copy.time = absl::FromUnixSeconds(manifest.set().started_unix());
    newest = std::max(newest, copy.time);
    whole.push_back(copy);
    locked_until[id] = manifest.locked_until_unix();
  }
  auto decisions = ApplyRetention(retention, zone, now, std::move(whole));
  if (!decisions.ok()) return decisions.status();
  std::vector<std::string> remove;
  for (const RetentionDecision& d : *decisions) {
    if (d.keep) continue;
    if (locked_until[d.id] > absl::ToUnixSeconds(now)) {
      DXLOG(INFO) << "copy " << prefix << d.id
                  << " is past its retention but locked in the bucket until "
                  << absl::FormatTime(absl::FromUnixSeconds(locked_until[d.id]))
                  << "; kept until then";
      continue;
    }
    remove.push_back(d.id);
  }
  // A locking bucket's unfinished copies keep locks no manifest recorded:
  // they are left for the bucket's lifecycle rules.
  if (to.LockFor(0) != 0) unfinished.clear();
  for (const std::string& id : unfinished) {
    // Set ids start with their time: older than the newest whole copy.
    if (newest != absl::InfinitePast() &&
        id < absl::FormatTime("%Y%m%dT%H%M%SZ", newest, absl::UTCTimeZone())) {
      remove.push_back(id);
    }
  }
  for (const std::string& id : remove) {
    std::vector<std::string>& keys = copies[id];
    const std::string manifest = prefix + id + "/" + kManifest;
    std::stable_partition(keys.begin(), keys.end(),
                          [&](const std::string& k) { return k == manifest; });
    for (const std::string& key : keys) {
      if (absl::Status s = to.Remove(key); !s.ok()) return s;
    }
    DXLOG(INFO) << "copy retention removed " << prefix << id;
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
