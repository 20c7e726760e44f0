#include "tests/support/memory_catalog.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "scheduler/catalog/find_glob.h"

namespace dxbackup::testing {

absl::Status MemoryCatalog::UpsertAgent(const v1::AgentInfo& agent) {
  std::lock_guard<std::mutex> lock(mu_);
  v1::AgentInfo stored = agent;
  stored.clear_connected();
  agents_[agent.id()] = stored;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::AgentInfo>> MemoryCatalog::ListAgentsOf(
    const std::string& namespace_, const std::string& release) {
  absl::StatusOr<std::vector<v1::AgentInfo>> all = ListAgents();
  if (!all.ok()) return all.status();
  std::vector<v1::AgentInfo> of;
  for (v1::AgentInfo& a : *all) {
    if (a.namespace_() == namespace_ && a.release() == release) {
      of.push_back(std::move(a));
    }
  }
  return of;
}

absl::StatusOr<std::vector<v1::AgentInfo>> MemoryCatalog::ListAgents() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::AgentInfo> agents;
  for (const auto& [id, a] : agents_) agents.push_back(a);
  std::sort(agents.begin(), agents.end(), [](const auto& a, const auto& b) {
    return std::tie(a.namespace_(), a.release(), a.component(), a.pod()) <
           std::tie(b.namespace_(), b.release(), b.component(), b.pod());
  });
  return agents;
}

absl::Status MemoryCatalog::DeleteAgent(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  agents_.erase(id);
  return absl::OkStatus();
}

absl::Status MemoryCatalog::CreateSet(const v1::BackupSet& set) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sets_.count(set.id()) != 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("saving set ", set.id(), ": it exists"));
  }
  sets_[set.id()] = {set, next_order_++};
  return absl::OkStatus();
}

absl::Status MemoryCatalog::CreateSetWithin(
    const v1::BackupSet& set, const scheduler::SetLimits& limits) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t running = 0, in_namespace = 0;
    for (const auto& [id, stored] : sets_) {
      if (stored.set.status() != v1::SET_RUNNING) continue;
      ++running;
      if (stored.set.namespace_() == set.namespace_()) ++in_namespace;
    }
    absl::Status within = scheduler::CheckSetLimits(
        limits, running, in_namespace, set.namespace_());
    if (!within.ok()) return within;
    if (sets_.count(set.id()) == 0) {
      sets_[set.id()] = {set, next_order_++};
      return absl::OkStatus();
    }
  }
  return CreateSet(set);  // the error a set that exists gets
}

absl::Status MemoryCatalog::UpdateSet(const v1::BackupSet& set) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sets_.find(set.id());
  if (it != sets_.end()) it->second.set = set;
  return absl::OkStatus();
}

absl::Status MemoryCatalog::RecordDrill(const std::string& set_id,
                                        const v1::Drill& drill) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sets_.find(set_id);
  if (it == sets_.end()) {
    return absl::NotFoundError(absl::StrCat("no backup set ", set_id));
  }
  *it->second.set.mutable_drill() = drill;
  return absl::OkStatus();
}

absl::StatusOr<v1::BackupSet> MemoryCatalog::GetSet(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sets_.find(id);
  if (it == sets_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no backup set ", id, "; `dxbackup sets` lists them"));
  }
  return it->second.set;
}

absl::StatusOr<std::vector<v1::BackupSet>> MemoryCatalog::ListSets(
    const v1::ListSetsRequest& f) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const StoredSet*> found;
  for (const auto& [id, stored] : sets_) {
    const v1::BackupSet& s = stored.set;
    if ((f.namespace_().empty() || s.namespace_() == f.namespace_()) &&
        (f.release().empty() || s.release() == f.release()) &&
        (f.status() == v1::SET_STATUS_UNSPECIFIED ||
         s.status() == f.status()) &&
        (f.since_unix() == 0 || s.started_unix() >= f.since_unix()) &&
        (f.until_unix() == 0 || s.started_unix() < f.until_unix()) &&
        (f.policy().empty() || s.policy() == f.policy())) {
      found.push_back(&stored);
    }
  }
  std::sort(found.begin(), found.end(), [](const auto* a, const auto* b) {
    return std::make_pair(a->set.started_unix(), a->created) >
           std::make_pair(b->set.started_unix(), b->created);
  });
  std::vector<v1::BackupSet> sets;
  const size_t first = std::min<size_t>(std::max(0, f.offset()), found.size());
  for (size_t i = first; i < found.size(); ++i) {
    if (f.limit() > 0 && sets.size() == static_cast<size_t>(f.limit())) break;
    sets.push_back(found[i]->set);
  }
  return sets;
}

absl::StatusOr<int64_t> MemoryCatalog::CountSets(const v1::ListSetsRequest& f) {
  v1::ListSetsRequest all = f;
  all.clear_limit();
  all.clear_offset();
  auto sets = ListSets(all);
  if (!sets.ok()) return sets.status();
  return static_cast<int64_t>(sets->size());
}

absl::StatusOr<std::vector<scheduler::SetCatalog::DeploymentSummary>>
MemoryCatalog::DeploymentSummaries(const std::string& namespace_,
                                   const std::string& release) {
  if (!namespace_.empty() && release.empty()) {
    return std::vector<scheduler::SetCatalog::DeploymentSummary>{};  // as
                                                                     // SQLite's
  }
  v1::ListSetsRequest filter;
  filter.set_namespace_(namespace_);
  filter.set_release(release);
  auto sets = ListSets(filter);  // newest first
  if (!sets.ok()) return sets.status();
  std::map<std::pair<std::string, std::string>,
           scheduler::SetCatalog::DeploymentSummary>
      by_key;
  for (const v1::BackupSet& s : *sets) {
    DeploymentSummary& d = by_key[{s.namespace_(), s.release()}];
    d.namespace_ = s.namespace_();
    d.release = s.release();
    d.sets++;
    d.newest_started_unix = std::max(d.newest_started_unix, s.started_unix());
    if (s.status() == v1::SET_COMPLETE &&
        s.verification().result() != v1::Verification::CORRUPT &&
        (d.complete_id.empty() ||
         s.finished_unix() > d.complete_finished_unix)) {
      d.complete_id = s.id();
      d.complete_finished_unix = s.finished_unix();
      d.complete_bytes = s.bytes();
    }
    if (s.status() == v1::SET_FAILED && d.failed_id.empty()) {
      d.failed_id = s.id();
      d.failed_started_unix = s.started_unix();
      d.failed_reason = s.reason();
    }
    if (s.has_drill() && (d.drilled_id.empty() ||
                          s.drill().drilled_unix() > d.drill.drilled_unix())) {
      d.drilled_id = s.id();
      d.drill = s.drill();
    }
  }
  std::vector<scheduler::SetCatalog::DeploymentSummary> out;
  for (auto& [key, d] : by_key) out.push_back(std::move(d));
  return out;
}

absl::Status MemoryCatalog::DeleteSet(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto of_set = [&](const auto& row) { return row.set_id() == id; };
  files_.erase(
      std::remove_if(files_.begin(), files_.end(),
                     [&](const StoredFile& f) { return f.set_id == id; }),
      files_.end());
  artifacts_.erase(std::remove_if(artifacts_.begin(), artifacts_.end(), of_set),
                   artifacts_.end());
  jobs_.erase(std::remove_if(jobs_.begin(), jobs_.end(), of_set), jobs_.end());
  sets_.erase(id);
  return absl::OkStatus();
}

absl::Status MemoryCatalog::AddArtifact(const v1::Artifact& a) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::Artifact& other : artifacts_) {
    if (other.path() == a.path() ||
        (other.set_id() == a.set_id() && other.target() == a.target())) {
      return absl::AlreadyExistsError(
          absl::StrCat("recording artifact ", a.path(), ": it exists"));
    }
  }
  artifacts_.push_back(a);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Artifact>> MemoryCatalog::ListArtifacts(
    const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Artifact> found;
  for (const v1::Artifact& a : artifacts_) {
    if (a.set_id() == set_id) found.push_back(a);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.target() < b.target();
  });
  return found;
}

absl::StatusOr<std::vector<std::string>> MemoryCatalog::AllArtifactPaths() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> paths;
  for (const v1::Artifact& a : artifacts_) paths.push_back(a.path());
  for (const v1::Artifact& a : artifacts_) {
    if (!a.file_list().path().empty()) paths.push_back(a.file_list().path());
  }
  return paths;
}

absl::StatusOr<std::map<std::string, int64_t>> MemoryCatalog::LockedSets(
    int64_t now_unix) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int64_t> locked;
  for (const v1::Artifact& a : artifacts_) {
    if (a.locked_until_unix() <= now_unix) continue;
    int64_t& until = locked[a.set_id()];
    until = std::max(until, a.locked_until_unix());
  }
  return locked;
}

absl::StatusOr<std::vector<v1::DeploymentHold>> MemoryCatalog::Holds() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::DeploymentHold> holds;
  for (const auto& [deployment, hold] : holds_) holds.push_back(hold);
  return holds;
}

absl::Status MemoryCatalog::PutHold(const v1::DeploymentHold& hold) {
  std::lock_guard<std::mutex> lock(mu_);
  holds_[{hold.namespace_(), hold.release()}] = hold;
  return absl::OkStatus();
}

absl::Status MemoryCatalog::ReleaseHold(const std::string& namespace_,
                                        const std::string& release,
                                        const std::string& restore_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = holds_.find({namespace_, release});
  if (it != holds_.end() && it->second.restore_id() == restore_id) {
    holds_.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryCatalog::AddPendingNotice(
    const std::string& webhook, const v1::Notice& notice) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t id = next_notice_id_++;
  pending_notices_[id] = {id, webhook, notice};
  return id;
}

absl::Status MemoryCatalog::RemovePendingNotice(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_notices_.erase(id);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<MemoryCatalog::PendingNotice>>
MemoryCatalog::PendingNotices() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PendingNotice> out;
  for (const auto& [id, p] : pending_notices_) out.push_back(p);
  return out;
}

absl::StatusOr<std::vector<MemoryCatalog::ScaledDown>>
MemoryCatalog::ScaledDowns() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ScaledDown> out;
  for (const auto& [deployment, scaled] : scaled_downs_) out.push_back(scaled);
  return out;
}

absl::Status MemoryCatalog::RecordScaledDown(const ScaledDown& scaled) {
  std::lock_guard<std::mutex> lock(mu_);
  scaled_downs_[{scaled.namespace_, scaled.release}] = scaled;
  return absl::OkStatus();
}

absl::Status MemoryCatalog::ForgetScaledDown(const std::string& namespace_,
                                             const std::string& release,
                                             const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = scaled_downs_.find({namespace_, release});
  if (it != scaled_downs_.end() && it->second.set_id == set_id) {
    scaled_downs_.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> MemoryCatalog::FailUnfinished(const std::string& reason,
                                                  int64_t now_unix) {
  std::lock_guard<std::mutex> lock(mu_);
  for (v1::Job& job : jobs_) {
    if (job.status() == v1::JOB_PENDING || job.status() == v1::JOB_RUNNING) {
      job.set_status(v1::JOB_FAILED);
      job.set_error(reason);
      job.set_error_code("ABORTED");
      job.set_finished_unix(now_unix);
    }
  }
  int failed = 0;
  for (auto& [id, stored] : sets_) {
    if (stored.set.status() == v1::SET_RUNNING) {
      stored.set.set_status(v1::SET_FAILED);
      stored.set.set_reason(reason);
      stored.set.set_finished_unix(now_unix);
      ++failed;
    }
  }
  return failed;
}

absl::Status MemoryCatalog::UpsertJob(const v1::Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  for (v1::Job& known : jobs_) {
    if (known.id() != job.id()) continue;
    v1::Job updated = job;
    updated.set_set_id(known.set_id());
    updated.set_kind(known.kind());
    updated.set_target(known.target());
    known = updated;
    return absl::OkStatus();
  }
  jobs_.push_back(job);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Job>> MemoryCatalog::ListJobs(
    const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Job> found;
  for (const v1::Job& job : jobs_) {
    if (job.set_id() == set_id) found.push_back(job);
  }
  return found;
}

absl::StatusOr<v1::Job> MemoryCatalog::GetJob(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::Job& job : jobs_) {
    if (job.id() == id) return job;
  }
  return absl::NotFoundError("no job " + id);
}

absl::Status MemoryCatalog::AddFiles(
    const std::string& set_id, const std::string& target,
    const google::protobuf::RepeatedPtrField<v1::FileEntry>& entries) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::FileEntry& e : entries) {
    files_.push_back({set_id, target, e, next_order_++});
  }
  return absl::OkStatus();
}

absl::Status MemoryCatalog::DeleteFiles(const std::string& set_id,
                                        const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(std::remove_if(files_.begin(), files_.end(),
                              [&](const StoredFile& f) {
                                return f.set_id == set_id && f.target == target;
                              }),
               files_.end());
  return absl::OkStatus();
}

v1::IndexedFile MemoryCatalog::Indexed(const StoredFile& f) const {
  v1::IndexedFile out;
  out.set_set_id(f.set_id);
  out.set_target(f.target);
  *out.mutable_entry() = f.entry;
  auto set = sets_.find(f.set_id);
  if (set != sets_.end()) {
    out.set_set_started_unix(set->second.set.started_unix());
    out.set_namespace_(set->second.set.namespace_());
    out.set_release(set->second.set.release());
  }
  return out;
}

absl::Status MemoryCatalog::ForEachFile(
    const v1::ListFilesRequest& request,
    const std::function<bool(const v1::IndexedFile&)>& visit) {
  std::vector<v1::IndexedFile> found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string prefix = request.path_prefix();
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    std::vector<const StoredFile*> rows;
    for (const StoredFile& f : files_) {
      const std::string& path = f.entry.path();
      if (f.set_id != request.set_id() || sets_.count(f.set_id) == 0) continue;
      if (!request.target().empty() && f.target != request.target()) continue;
      if (!prefix.empty() && path != prefix &&
          path.compare(0, prefix.size() + 1, prefix + "/") != 0) {
        continue;
      }
      rows.push_back(&f);
    }
    std::sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
      return std::tie(a->target, a->entry.path(), a->added) <
             std::tie(b->target, b->entry.path(), b->added);
    });
    for (const StoredFile* f : rows) found.push_back(Indexed(*f));
  }
  for (const v1::IndexedFile& f : found) {
    if (!visit(f)) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::FileEntry>> MemoryCatalog::FilesAfter(
    const std::string& set_id, const std::string& target,
    const std::string& after, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const StoredFile*> rows;
  for (const StoredFile& f : files_) {
    if (f.set_id == set_id && f.target == target && f.entry.path() > after &&
        sets_.count(f.set_id) != 0) {
      rows.push_back(&f);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
    return std::tie(a->entry.path(), a->added) <
           std::tie(b->entry.path(), b->added);
  });
  std::vector<v1::FileEntry> page;
  for (const StoredFile* f : rows) {
    if (static_cast<int>(page.size()) == limit) break;
    page.push_back(f->entry);
  }
  return page;
}

absl::Status MemoryCatalog::MoveFilesToStore(const std::string& set_id,
                                             const std::string& target,
                                             const v1::StoredFileList& list,
                                             int64_t locked_until_unix) {
  std::lock_guard<std::mutex> lock(mu_);
  auto artifact = std::find_if(
      artifacts_.begin(), artifacts_.end(), [&](const v1::Artifact& a) {
        return a.set_id() == set_id && a.target() == target;
      });
  if (artifact == artifacts_.end()) {
    return absl::NotFoundError(
        absl::StrCat("set ", set_id, " has no artifact of ", target));
  }
  *artifact->mutable_file_list() = list;
  artifact->set_locked_until_unix(
      std::max(artifact->locked_until_unix(), locked_until_unix));
  files_.erase(std::remove_if(files_.begin(), files_.end(),
                              [&](const StoredFile& f) {
                                return f.set_id == set_id && f.target == target;
                              }),
               files_.end());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<scheduler::FileIndex::StoredFileListOf>>
MemoryCatalog::StoredFileLists(const std::string& namespace_,
                               const std::string& release) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StoredFileListOf> lists;
  for (const v1::Artifact& a : artifacts_) {
    auto set = sets_.find(a.set_id());
    if (a.file_list().path().empty() || set == sets_.end()) continue;
    const v1::BackupSet& s = set->second.set;
    if (s.status() == v1::SET_EXPIRING) continue;
    if (!namespace_.empty() && s.namespace_() != namespace_) continue;
    if (!release.empty() && s.release() != release) continue;
    lists.push_back({a, s.namespace_(), s.release(), s.started_unix()});
  }
  std::sort(lists.begin(), lists.end(),
            [](const StoredFileListOf& x, const StoredFileListOf& y) {
              if (x.set_started_unix != y.set_started_unix) {
                return x.set_started_unix > y.set_started_unix;
              }
              if (x.artifact.set_id() != y.artifact.set_id()) {
                return x.artifact.set_id() > y.artifact.set_id();
              }
              return x.artifact.target() < y.artifact.target();
            });
  return lists;
}

absl::StatusOr<bool> MemoryCatalog::AnyStoredFileLists(
    const std::string& namespace_, const std::string& release) {
  absl::StatusOr<std::vector<StoredFileListOf>> lists =
      StoredFileLists(namespace_, release);
  if (!lists.ok()) return lists.status();
  return !lists->empty();
}

absl::StatusOr<v1::FindFilesResponse> MemoryCatalog::FindFiles(
    const v1::FindFilesRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  constexpr int kMaxFindResults = 10000;
  const int limit =
      request.limit() > 0 ? std::min(request.limit(), kMaxFindResults) : 1000;
  struct Row {
    const StoredFile* file;
    const v1::BackupSet* set;
  };
  std::vector<Row> rows;
  for (const StoredFile& f : files_) {
    auto set = sets_.find(f.set_id);
    if (set == sets_.end() || f.entry.unchanged()) continue;
    const v1::BackupSet& s = set->second.set;
    if (!request.namespace_().empty() && s.namespace_() != request.namespace_())
      continue;
    if (!request.release().empty() && s.release() != request.release())
      continue;
    if (!scheduler::FindPatternMatchesPath(request.pattern(), f.entry.path())) {
      continue;
    }
    rows.push_back({&f, &s});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.set->started_unix() != b.set->started_unix()) {
      return a.set->started_unix() > b.set->started_unix();
    }
    if (a.file->set_id != b.file->set_id)
      return a.file->set_id > b.file->set_id;
    return std::tie(a.file->target, a.file->entry.path(), a.file->added) <
           std::tie(b.file->target, b.file->entry.path(), b.file->added);
  });
  v1::FindFilesResponse response;
  for (const Row& row : rows) {
    if (response.files_size() == limit) {
      response.set_truncated(true);
      break;
    }
    *response.add_files() = Indexed(*row.file);
  }
  return response;
}

absl::Status MemoryCatalog::DeleteOrphanFiles() {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(std::remove_if(files_.begin(), files_.end(),
                              [&](const StoredFile& f) {
                                return std::none_of(
                                    artifacts_.begin(), artifacts_.end(),
                                    [&](const v1::Artifact& a) {
                                      return a.set_id() == f.set_id &&
                                             a.target() == f.target;
                                    });
                              }),
               files_.end());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<MemoryCatalog::ScheduleSlot>>
MemoryCatalog::ScheduleSlots() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ScheduleSlot> slots;
  for (const auto& [key, last] : slots_) {
    slots.push_back(
        {std::get<0>(key), std::get<1>(key), std::get<2>(key), last});
  }
  return slots;
}

absl::StatusOr<bool> MemoryCatalog::ClaimScheduleSlot(
    const ScheduleSlot& slot) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = slots_.try_emplace(
      {slot.policy, slot.namespace_, slot.release}, slot.last_slot_unix);
  if (inserted) return true;
  if (it->second >= slot.last_slot_unix) return false;
  it->second = slot.last_slot_unix;
  return true;
}

absl::Status MemoryCatalog::SaveScheduleSlot(const ScheduleSlot& slot) {
  std::lock_guard<std::mutex> lock(mu_);
  slots_[{slot.policy, slot.namespace_, slot.release}] = slot.last_slot_unix;
  return absl::OkStatus();
}

}  // namespace dxbackup::testing
