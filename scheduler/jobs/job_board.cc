#include "scheduler/jobs/job_board.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace dxbackup::scheduler {

std::vector<std::string> FailedJobReasons(const std::vector<v1::Job>& jobs) {
  std::vector<std::string> reasons;
  for (const v1::Job& job : jobs) {
    if (job.status() != v1::JOB_SUCCEEDED) {
      reasons.push_back(absl::StrCat(job.target(), ": ", job.error()));
    }
  }
  return reasons;
}

JobBoard::JobBoard(JobCatalog* jobs, SetCatalog* sets,
                   const common::Clock* clock)
    : job_records_(jobs), set_records_(sets), clock_(clock) {}

void JobBoard::Record(Entry& entry, bool persist) {
  if (persist) {
    absl::Status s = job_records_->UpsertJob(entry.job);
    if (!s.ok()) DXLOG(ERROR) << s.message();
  }
  if (entry.events) {
    v1::SetEvent event;
    event.set_set_id(entry.job.set_id());
    *event.mutable_job() = entry.job;
    entry.events->Publish(event);
  }
}

absl::Status JobBoard::Add(const v1::Job& job, const v1::Artifact& artifact,
                           std::shared_ptr<RunEvents> events,
                           std::vector<v1::Artifact> bases) {
  std::lock_guard<std::mutex> lock(mu_);
  if (jobs_.count(job.id()) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("job ", job.id(), " exists"));
  }
  Entry& entry = jobs_[job.id()];
  entry.job = job;
  entry.job.set_status(v1::JOB_PENDING);
  entry.artifact = artifact;
  entry.bases = std::move(bases);
  entry.events = std::move(events);
  Record(entry, true);
  return absl::OkStatus();
}

void JobBoard::MarkRunning(const std::string& job_id,
                           const std::string& agent_id, uint64_t session) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || Over(it->second)) return;
  it->second.session = session;
  it->second.job.set_status(v1::JOB_RUNNING);
  it->second.job.set_agent_id(agent_id);
  it->second.job.set_started_unix(clock_->NowUnix());
  it->second.last_activity_unix = clock_->NowUnix();
  Record(it->second, true);
}

absl::StatusOr<JobBoard::Entry*> JobBoard::ReportableLocked(
    uint64_t session, const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || Over(it->second)) {
    return absl::NotFoundError(absl::StrCat("no running job ", job_id));
  }
  Entry& entry = it->second;
  if (session == 0 || entry.session != session ||
      entry.job.status() != v1::JOB_RUNNING) {
    return absl::PermissionDeniedError(absl::StrCat(
        "job ", job_id, " (", entry.job.target(), ") was not given to this ",
        "agent connection; it runs on ",
        entry.job.agent_id().empty() ? "nobody yet" : entry.job.agent_id()));
  }
  return &entry;
}

absl::Status JobBoard::Progress(uint64_t session, const std::string& job_id,
                                uint64_t bytes, uint64_t files) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<Entry*> entry = ReportableLocked(session, job_id);
  if (!entry.ok()) return entry.status();
  (*entry)->job.set_bytes(bytes);
  if (files != 0) (*entry)->job.set_files(files);
  (*entry)->last_activity_unix = clock_->NowUnix();
  Record(**entry, false);
  return absl::OkStatus();
}

void JobBoard::Finish(const std::string& job_id, bool ok,
                      const std::string& error, uint64_t bytes, uint64_t files,
                      const std::string& log) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || Over(it->second)) return;
    if (ok || !fail_hook_) {
      EndLocked(it->second, ok, error, bytes, files, log);
      return;
    }
    it->second.ending = true;  // first call wins; the job takes no more
  }
  fail_hook_(job_id);
  std::lock_guard<std::mutex> lock(mu_);
  EndLocked(jobs_.at(job_id), ok, error, bytes, files, log);
}

void JobBoard::EndLocked(Entry& entry, bool ok, const std::string& error,
                         uint64_t bytes, uint64_t files,
                         const std::string& log) {
  entry.ended = true;
  entry.job.set_status(ok ? v1::JOB_SUCCEEDED : v1::JOB_FAILED);
  entry.job.set_error(error);
  if (bytes != 0) entry.job.set_bytes(bytes);
  if (files != 0) entry.job.set_files(files);
  if (!log.empty()) entry.job.set_log(log);
  entry.job.set_finished_unix(clock_->NowUnix());
  if (!ok) {
    DXLOG(WARNING) << "job " << entry.job.id() << " (" << entry.job.target()
                   << ") failed: " << error;
  }
  Record(entry, true);
  ended_cv_.notify_all();
}

void JobBoard::SetFailHook(std::function<void(const std::string&)> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_hook_ = std::move(hook);
}

void JobBoard::FailSessionJobs(uint64_t session, const std::string& reason) {
  if (session == 0) return;
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, entry] : jobs_) {
      if (!Over(entry) && entry.session == session) ids.push_back(id);
    }
  }
  for (const std::string& id : ids) Finish(id, false, reason);
}

std::vector<std::string> JobBoard::FailStalled(int64_t stall_seconds) {
  std::vector<std::pair<std::string, std::string>> stalled;  // id, agent
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_->NowUnix();
    for (const auto& [id, entry] : jobs_) {
      const v1::JobKind kind = entry.job.kind();
      if (Over(entry) || entry.job.status() != v1::JOB_RUNNING ||
          (kind != v1::JOB_VOLUME_BACKUP && kind != v1::JOB_VOLUME_RESTORE) ||
          now - entry.last_activity_unix < stall_seconds) {
        continue;
      }
      stalled.emplace_back(id, entry.job.agent_id());
    }
  }
  std::vector<std::string> ids;
  for (const auto& [id, agent] : stalled) {
    Finish(id, false,
           absl::StrCat("agent ", agent, " reported no progress for ",
                        stall_seconds,
                        " s though it is connected: its volume read or write "
                        "is stuck (a hung mount?); see the agent's log"));
    ids.push_back(id);
  }
  return ids;
}

absl::Status JobBoard::ReportResult(uint64_t session,
                                    const v1::JobResult& result) {
  v1::JobKind kind;
  {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<Entry*> entry = ReportableLocked(session, result.job_id());
    if (!entry.ok()) return entry.status();
    kind = (*entry)->job.kind();
  }
  if (!result.ok()) {
    Finish(result.job_id(), false,
           result.error().empty() ? "the agent reported a failure"
                                  : result.error(),
           result.bytes(), result.files());
  } else if (kind == v1::JOB_VOLUME_RESTORE || kind == v1::JOB_HOOK) {
    Finish(result.job_id(), true, "", result.bytes(), result.files());
  }
  return absl::OkStatus();
}

void JobBoard::FailAll(const std::string& reason) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, entry] : jobs_) {
      if (!Over(entry)) ids.push_back(id);
    }
  }
  for (const std::string& id : ids) Finish(id, false, reason);
}

absl::StatusOr<v1::Artifact> JobBoard::BeginUpload(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no job ", job_id, " is waiting for an upload"));
  }
  Entry& entry = it->second;
  if (entry.job.kind() != v1::JOB_VOLUME_BACKUP) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, " does not take uploads"));
  }
  if (Over(entry)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", job_id, " has already ended: ", entry.job.error()));
  }
  if (entry.uploading) {
    return absl::AlreadyExistsError(
        absl::StrCat("job ", job_id, " already has an upload in progress"));
  }
  entry.uploading = true;
  return entry.artifact;
}

absl::Status JobBoard::CompleteWithArtifact(const std::string& job_id,
                                            const v1::Artifact& stored) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || Over(it->second)) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, " ended before its upload completed",
                     it == jobs_.end() ? "" : ": " + it->second.job.error()));
  }
  absl::Status s = set_records_->AddArtifact(stored);
  if (!s.ok()) return s;
  Entry& entry = it->second;
  entry.ended = true;
  entry.job.set_status(v1::JOB_SUCCEEDED);
  entry.job.set_bytes(stored.bytes());
  entry.job.set_files(stored.file_count());
  entry.job.set_finished_unix(clock_->NowUnix());
  Record(entry, true);
  ended_cv_.notify_all();
  return absl::OkStatus();
}

bool JobBoard::IsRunning(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  return it != jobs_.end() && !Over(it->second);
}

absl::StatusOr<v1::Artifact> JobBoard::RestoreSource(const std::string& job_id,
                                                     uint32_t part) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || Over(it->second) ||
      it->second.job.kind() != v1::JOB_VOLUME_RESTORE) {
    return absl::NotFoundError(absl::StrCat("no running restore job ", job_id));
  }
  const std::vector<v1::Artifact>& bases = it->second.bases;
  if (part < bases.size()) return bases[part];
  if (part == bases.size()) return it->second.artifact;
  return absl::OutOfRangeError(absl::StrCat("restore job ", job_id, " has ",
                                            bases.size() + 1, " parts, not ",
                                            part + 1));
}

absl::StatusOr<std::string> JobBoard::AgentOf(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat("no job ", job_id));
  }
  return it->second.job.agent_id();
}

absl::StatusOr<v1::Artifact> JobBoard::IncrementalBackup(
    const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || Over(it->second) ||
      it->second.job.kind() != v1::JOB_VOLUME_BACKUP ||
      it->second.artifact.base_set_id().empty()) {
    return absl::NotFoundError(
        absl::StrCat("no running incremental backup job ", job_id));
  }
  return it->second.artifact;
}

std::vector<v1::Job> JobBoard::WaitAndRemove(
    const std::vector<std::string>& job_ids) {
  std::unique_lock<std::mutex> lock(mu_);
  ended_cv_.wait(lock, [&] {
    for (const std::string& id : job_ids) {
      auto it = jobs_.find(id);
      if (it != jobs_.end() && !it->second.ended) return false;
    }
    return true;
  });
  std::vector<v1::Job> out;
  for (const std::string& id : job_ids) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    out.push_back(it->second.job);
    jobs_.erase(it);
  }
  return out;
}

}  // namespace dxbackup::scheduler
