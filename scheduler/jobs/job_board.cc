#include "scheduler/jobs/job_board.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace dxbackup::scheduler {

namespace {

// Whether an agent uploads the job's artifact: a volume backup, or a
// database member whose command runs in an agent's pod — planned for an
// agent, never one the scheduler runs (its agent id is "scheduler" once
// running).
bool TakesUpload(const v1::Job& job, bool for_agent) {
  return for_agent && (job.kind() == v1::JOB_VOLUME_BACKUP ||
                       job.kind() == v1::JOB_DATABASE_BACKUP);
}

// Whether an agent downloads the job's artifact: a volume restore, or a
// database restore whose command runs in an agent's pod.
bool GivesDownload(const v1::Job& job, bool for_agent) {
  return for_agent && (job.kind() == v1::JOB_VOLUME_RESTORE ||
                       job.kind() == v1::JOB_DATABASE_RESTORE);
}

// What an agent's report may put into a job (and so into the catalog, the
// set's reason and every listing of it): the last `max` bytes, the end of
// a tool's stderr being what tells.
std::string ReportedTail(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  return absl::StrCat("[", text.size() - max, " bytes cut] ",
                      text.substr(text.size() - max));
}

}  // namespace

std::vector<std::string> FailedJobReasons(const std::vector<v1::Job>& jobs,
                                          bool but_cancelled) {
  std::vector<std::string> reasons;
  for (const v1::Job& job : jobs) {
    if (but_cancelled && job.error_code() == "CANCELLED") continue;
    if (job.status() != v1::JOB_SUCCEEDED) {
      reasons.push_back(absl::StrCat(job.target(), ": ", job.error()));
    }
  }
  return reasons;
}

JobBoard::JobBoard(JobCatalog* jobs, SetCatalog* sets,
                   const common::Clock* clock)
    : set_records_(sets), clock_(clock), recorder_(jobs) {
  observers_.push_back(&recorder_);
}

void JobBoard::AddObserver(JobObserver* observer) {
  std::lock_guard<std::mutex> lock(mu_);
  observers_.push_back(observer);
}

void JobBoard::RemoveObserver(JobObserver* observer) {
  std::unique_lock<std::mutex> lock(mu_);
  observers_.erase(std::remove(observers_.begin(), observers_.end(), observer),
                   observers_.end());
  // A delivery in flight may have taken the list before the erase.
  changed_cv_.wait(lock, [&] { return !delivering_; });
}

uint64_t JobBoard::QueueLocked(JobChange change, const Entry& entry) {
  const uint64_t number = next_change_++;
  undelivered_.push_back(Change{number, change, entry.job, entry.events});
  return number;
}

void JobBoard::DeliverThrough(uint64_t number) {
  std::unique_lock<std::mutex> lock(mu_);
  while (delivered_ < number) {
    if (delivering_) {
      // An observer's own change: the loop below is delivering it next.
      if (deliverer_ == std::this_thread::get_id()) return;
      changed_cv_.wait(lock);
      continue;
    }
    // This thread delivers, in order, up to its own change; a thread that
    // queued later and waits takes over from there.
    delivering_ = true;
    deliverer_ = std::this_thread::get_id();
    while (delivered_ < number) {
      Change next = std::move(undelivered_.front());
      undelivered_.pop_front();
      const std::vector<JobObserver*> observers = observers_;
      lock.unlock();
      for (JobObserver* observer : observers) {
        observer->OnJobChanged(next.change, next.job);
      }
      if (next.events != nullptr) {
        v1::SetEvent event;
        event.set_set_id(next.job.set_id());
        *event.mutable_job() = std::move(next.job);
        next.events->Publish(event);
      }
      lock.lock();
      delivered_ = next.number;
    }
    delivering_ = false;
    deliverer_ = {};
    changed_cv_.notify_all();
  }
}

absl::Status JobBoard::Add(const v1::Job& job, const v1::Artifact& artifact,
                           std::shared_ptr<RunEvents> events,
                           std::vector<v1::Artifact> bases) {
  std::unique_lock<std::mutex> lock(mu_);
  if (jobs_.count(job.id()) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("job ", job.id(), " exists"));
  }
  Entry& entry = jobs_[job.id()];
  entry.job = job;
  entry.job.set_status(v1::JOB_PENDING);
  // A volume job is always an agent's; a database job only when planned
  // for one.
  entry.for_agent = !job.agent_id().empty() ||
                    job.kind() == v1::JOB_VOLUME_BACKUP ||
                    job.kind() == v1::JOB_VOLUME_RESTORE;
  entry.artifact = artifact;
  entry.bases = std::move(bases);
  entry.events = std::move(events);
  entry.cancel = std::make_shared<common::Cancellation>();
  const uint64_t change = QueueLocked(JobChange::kAdded, entry);
  lock.unlock();
  DeliverThrough(change);
  return absl::OkStatus();
}

void JobBoard::MarkRunning(const std::string& job_id,
                           const std::string& agent_id, uint64_t session) {
  uint64_t change;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || Over(it->second)) return;
    it->second.session = session;
    it->second.job.set_status(v1::JOB_RUNNING);
    it->second.job.set_agent_id(agent_id);
    it->second.job.set_started_unix(clock_->NowUnix());
    it->second.last_activity_unix = clock_->NowUnix();
    change = QueueLocked(JobChange::kStarted, it->second);
  }
  DeliverThrough(change);
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
  uint64_t change;
  {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<Entry*> entry = ReportableLocked(session, job_id);
    if (!entry.ok()) return entry.status();
    (*entry)->job.set_bytes(bytes);
    if (files != 0) (*entry)->job.set_files(files);
    (*entry)->last_activity_unix = clock_->NowUnix();
    change = QueueLocked(JobChange::kProgress, **entry);
  }
  DeliverThrough(change);
  return absl::OkStatus();
}

void JobBoard::Finish(const std::string& job_id, const absl::Status& outcome,
                      uint64_t bytes, uint64_t files, const std::string& log) {
  End(job_id, outcome, bytes, files, log, /*stop_work=*/true);
}

void JobBoard::End(const std::string& job_id, const absl::Status& outcome,
                   uint64_t bytes, uint64_t files, const std::string& log,
                   bool stop_work) {
  std::vector<JobObserver*> observers;
  std::shared_ptr<common::Cancellation> cancel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || Over(it->second)) return;
    it->second.ending = true;  // first call wins; the job takes no more
    if (!outcome.ok()) {
      observers = observers_;
      if (stop_work) cancel = it->second.cancel;
    }
  }
  for (JobObserver* observer : observers) observer->OnJobFailing(job_id);
  // What still works for the job stops: its commands, its agent.
  if (cancel != nullptr) cancel->Cancel(std::string(outcome.message()));
  uint64_t change;
  {
    std::lock_guard<std::mutex> lock(mu_);
    change = EndLocked(jobs_.at(job_id), outcome, bytes, files, log);
  }
  DeliverThrough(change);
}

uint64_t JobBoard::EndLocked(Entry& entry, const absl::Status& outcome,
                             uint64_t bytes, uint64_t files,
                             const std::string& log) {
  entry.ended = true;
  entry.ending = false;
  entry.job.set_status(outcome.ok() ? v1::JOB_SUCCEEDED : v1::JOB_FAILED);
  entry.job.set_error(std::string(outcome.message()));
  entry.job.set_error_code(
      outcome.ok() ? "" : absl::StatusCodeToString(outcome.code()));
  if (bytes != 0) entry.job.set_bytes(bytes);
  if (files != 0) entry.job.set_files(files);
  if (!log.empty()) entry.job.set_log(log);
  entry.job.set_finished_unix(clock_->NowUnix());
  if (!outcome.ok()) {
    DXLOG(WARNING) << "job " << entry.job.id() << " (" << entry.job.target()
                   << ") failed: " << outcome;
  }
  entry.end_change = QueueLocked(JobChange::kEnded, entry);
  changed_cv_.notify_all();
  return entry.end_change;
}

void JobBoard::FailSessionJobs(uint64_t session, const absl::Status& why) {
  if (session == 0) return;
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, entry] : jobs_) {
      if (!Over(entry) && entry.session == session) ids.push_back(id);
    }
  }
  for (const std::string& id : ids) Finish(id, why);
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
    Finish(id, absl::DeadlineExceededError(absl::StrCat(
                   "agent ", agent, " reported no progress for ", stall_seconds,
                   " s though it is connected: its volume read or write "
                   "is stuck (a hung mount?); see the agent's log")));
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
    // An agent that predates error_code sends 0: UNKNOWN.
    absl::StatusCode code = static_cast<absl::StatusCode>(result.error_code());
    if (code == absl::StatusCode::kOk || result.error_code() < 0 ||
        result.error_code() > 16) {
      code = absl::StatusCode::kUnknown;
    }
    // Its agent ended it: nothing runs there to stop (no CancelJob).
    End(result.job_id(),
        absl::Status(
            code, result.error().empty()
                      ? "the agent reported a failure"
                      : ReportedTail(result.error(), kMaxReportedErrorBytes)),
        result.bytes(), result.files(),
        ReportedTail(result.log(), kMaxReportedLogBytes), /*stop_work=*/false);
  } else if (kind == v1::JOB_VOLUME_RESTORE || kind == v1::JOB_HOOK ||
             kind == v1::JOB_DATABASE_RESTORE) {
    // An agent reports a database restore only when it ran its command.
    Finish(result.job_id(), absl::OkStatus(), result.bytes(), result.files(),
           ReportedTail(result.log(), kMaxReportedLogBytes));
  }
  return absl::OkStatus();
}

void JobBoard::FailAll(const absl::Status& why) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, entry] : jobs_) {
      if (!Over(entry)) ids.push_back(id);
    }
  }
  for (const std::string& id : ids) Finish(id, why);
}

absl::StatusOr<v1::Artifact> JobBoard::BeginUpload(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no job ", job_id, " is waiting for an upload"));
  }
  Entry& entry = it->second;
  if (!TakesUpload(entry.job, entry.for_agent)) {
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
                                            const v1::Artifact& stored,
                                            const std::string& log) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || Over(it->second)) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", job_id, " ended before its upload completed",
                       it == jobs_.end() ? "" : ": " + it->second.job.error()));
    }
    it->second.completing = true;  // takes no other end meanwhile
  }
  absl::Status s = set_records_->AddArtifact(stored);
  uint64_t change;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& entry = jobs_.at(job_id);
    entry.completing = false;
    if (!s.ok()) return s;
    entry.job.set_bytes(stored.bytes());
    entry.job.set_files(stored.file_count());
    change = EndLocked(entry, absl::OkStatus(), 0, 0,
                       ReportedTail(log, kMaxReportedLogBytes));
  }
  DeliverThrough(change);
  return absl::OkStatus();
}

std::shared_ptr<common::Cancellation> JobBoard::CancellationOf(
    const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : it->second.cancel;
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
      !GivesDownload(it->second.job, it->second.for_agent)) {
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
  changed_cv_.wait(lock, [&] {
    for (const std::string& id : job_ids) {
      auto it = jobs_.find(id);
      if (it != jobs_.end() &&
          (!it->second.ended || it->second.end_change > delivered_)) {
        return false;
      }
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
