#include "agent/agent_session.h"

#include <grpcpp/channel.h>
#include <limits.h>
#include <stdlib.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "agent/backup/fix_level.h"
#include "agent/command/command_capture.h"
#include "agent/command/command_restore.h"
#include "agent/hook_runner.h"
#include "agent/restore/restore_job.h"
#include "common/backoff.h"
#include "common/log.h"
#include "common/replica_redirect.h"
#include "common/utf8_escape.h"

namespace dxbackup::agent {
namespace {
// A job's progress goes to the scheduler after this many bytes or this long,
// whichever comes first (the scheduler fails jobs that report nothing).
constexpr uint64_t kProgressEveryBytes = 8 << 20;
constexpr std::chrono::seconds kProgressEvery{5};
}  // namespace

AgentSession::AgentSession(AgentIdentity identity, BackupJobSettings settings,
                           DialFn dial, const common::TimeSource* time)
    : identity_(std::move(identity)),
      settings_(std::move(settings)),
      dial_(std::move(dial)),
      time_(time) {
  DialControl("");
}

void AgentSession::DialControl(const std::string& replica) {
  replica_ = replica;
  data_replica_ = replica;
  stub_ = v1::AgentService::NewStub(dial_(replica, false));
}

std::unique_ptr<v1::AgentService::Stub> AgentSession::NewDataStub() {
  return v1::AgentService::NewStub(dial_(data_replica_, true));
}

AgentSession::~AgentSession() {
  Stop();
  JoinJobs();
}

void AgentSession::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  if (context_ != nullptr) context_->TryCancel();
  stop_cv_.notify_all();
}

void AgentSession::Run() {
  common::Backoff backoff(std::chrono::milliseconds(500),
                          std::chrono::seconds(30));
  // Redirects followed in a row without a welcome: a loop between
  // replicas (each sure another runs the deployment) backs off.
  int redirects = 0;
  for (;;) {
    const auto started = time_->Monotonic();
    absl::Status s = ServeOnce();
    JoinJobs();
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return;
    if (welcomed_) redirects = 0;
    if (!sent_to_.empty()) {
      DXLOG(INFO) << s.message() << " (connecting to " << sent_to_ << ")";
      DialControl(sent_to_);
      if (++redirects <= 3) continue;
      redirects = 0;  // after one backoff, follow again
    } else if (!replica_.empty()) {
      // A replica it was sent to that is gone, or a stream of one that
      // ended: the configured address (the Service) finds the owner anew.
      DialControl("");
    }
    // A connection that lived a while was healthy: start backing off anew.
    if (time_->Monotonic() - started > std::chrono::seconds(30)) {
      backoff.Reset();
    }
    const auto delay = backoff.Next();
    DXLOG(WARNING) << "scheduler connection lost (" << s.message()
                   << "); reconnecting in " << delay.count() << " ms";
    time_->WaitFor(lock, stop_cv_, delay, [this] { return stopping_; });
    if (stopping_) return;
  }
}

absl::Status AgentSession::ServeOnce() {
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(mu_);
    welcomed_ = false;
    sent_to_.clear();
    if (stopping_) return absl::CancelledError("stopping");
    context_ = &context;
  }
  auto stream = stub_->Connect(&context);
  v1::AgentMessage hello_message;
  v1::Hello* hello = hello_message.mutable_hello();
  hello->set_namespace_(identity_.namespace_);
  hello->set_release(identity_.release);
  hello->set_pod(identity_.pod);
  hello->set_component(identity_.component);
  hello->set_agent_version(DXBACKUP_VERSION);
  hello->mutable_labels()->insert(identity_.labels.begin(),
                                  identity_.labels.end());
  for (v1::Volume volume : identity_.volumes) {
    volume.set_fix_level(FindFixLevel(volume.path()));
    char resolved[PATH_MAX];
    if (realpath(volume.path().c_str(), resolved) != nullptr &&
        volume.path() != resolved) {
      volume.set_resolved_path(resolved);
    }
    if (hello->fix_level().empty()) hello->set_fix_level(volume.fix_level());
    *hello->add_volumes() = volume;
  }

  absl::Status result = absl::OkStatus();
  v1::SchedulerMessage message;
  if (!stream->Write(hello_message) || !stream->Read(&message) ||
      !message.has_welcome()) {
    grpc::Status st = stream->Finish();
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
    sent_to_ = common::OwnerAddressOf(context);
    return absl::UnavailableError(
        st.ok() ? "scheduler closed the stream before welcoming us"
                : st.error_message());
  }
  // Among replicas, uploads go to the one that welcomed this stream, also
  // when it was reached through the Service.
  const std::string& welcomed_at = message.welcome().replica_address();
  data_replica_ =
      common::ValidReplicaAddress(welcomed_at) ? welcomed_at : replica_;
  DXLOG(INFO) << "registered with the scheduler"
              << (data_replica_.empty() ? "" : " replica at " + data_replica_)
              << " as " << message.welcome().agent_id();
  {
    std::lock_guard<std::mutex> lock(mu_);
    welcomed_ = true;
  }
  commands_.Open();
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    stream_ = stream.get();
  }

  bool connected = true;
  std::mutex heartbeat_mu;
  std::condition_variable heartbeat_cv;
  const int interval = std::max(1, message.welcome().heartbeat_seconds());
  std::thread heartbeat([&] {
    std::unique_lock<std::mutex> lock(heartbeat_mu);
    while (!time_->WaitFor(lock, heartbeat_cv, std::chrono::seconds(interval),
                           [&] { return !connected; })) {
      v1::AgentMessage beat;
      beat.mutable_heartbeat()->set_sent_unix(time_->NowUnix());
      if (!Send(beat)) break;
    }
  });

  while (stream->Read(&message)) {
    if (message.has_backup()) {
      StartJob(message.backup().job_id(),
               [this, command = message.backup()] { HandleBackup(command); });
    } else if (message.has_restore()) {
      StartJob(message.restore().job_id(),
               [this, command = message.restore()] { HandleRestore(command); });
    } else if (message.has_capture_command()) {
      StartJob(message.capture_command().job_id(),
               [this, command = message.capture_command()] {
                 HandleCommandCapture(command);
               });
    } else if (message.has_restore_command()) {
      StartJob(message.restore_command().job_id(),
               [this, command = message.restore_command()] {
                 HandleCommandRestore(command);
               });
    } else if (message.has_cancel_job()) {
      CancelJob(message.cancel_job());
    } else if (message.has_hook()) {
      // Not cancellable (no job id given): the post-hooks that follow
      // count on it having run.
      StartJob("", [this, command = message.hook()] {
        DXLOG(INFO) << "job " << command.job_id() << ": running hook "
                    << command.name();
        SendResult(command.job_id(), RunHook(command, *time_), 0, 0);
      });
    }
  }
  // The scheduler fails the jobs of a connection that ended: a command
  // still running for one would only hold its job thread (and the next
  // connection) up.
  commands_.KillAll("the connection to the scheduler ended");
  {
    std::lock_guard<std::mutex> lock(heartbeat_mu);
    connected = false;
  }
  heartbeat_cv.notify_all();
  heartbeat.join();
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    stream_ = nullptr;
  }
  grpc::Status st = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
    sent_to_ = common::OwnerAddressOf(context);
  }
  return st.ok() ? absl::UnavailableError("scheduler ended the stream")
                 : absl::UnavailableError(st.error_message());
}

bool AgentSession::Send(const v1::AgentMessage& message) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return stream_ != nullptr && stream_->Write(message);
}

absl::StatusOr<const v1::Volume*> AgentSession::FindVolume(
    const std::string& name) const {
  for (const v1::Volume& v : identity_.volumes) {
    if (v.name() == name) return &v;
  }
  return absl::NotFoundError(
      absl::StrCat("agent ", identity_.pod, " has no volume named ", name));
}

void AgentSession::SendResult(const std::string& job_id,
                              const absl::Status& status, uint64_t bytes,
                              uint64_t files, const std::string& log) {
  v1::AgentMessage out;
  v1::JobResult* result = out.mutable_result();
  result->set_job_id(job_id);
  result->set_ok(status.ok());
  // Protobuf strings must be UTF-8, and a command's stderr need not be
  // (a DB2 client in a Latin-1 locale): escaped, or the message would not
  // parse and the stream would end.
  result->set_error(common::EscapeToUtf8(std::string(status.message())));
  result->set_error_code(static_cast<int32_t>(status.code()));
  result->set_bytes(bytes);
  result->set_files(files);
  result->set_log(common::EscapeToUtf8(log));
  if (status.ok()) {
    DXLOG(INFO) << "job " << job_id << ": done, " << bytes << " bytes, "
                << files << " entries";
  } else {
    DXLOG(ERROR) << "job " << job_id << ": " << status.message();
  }
  Send(out);
}

void AgentSession::HandleBackup(const v1::BackupCommand& command) {
  absl::StatusOr<const v1::Volume*> volume = FindVolume(command.volume());
  if (!volume.ok()) return SendResult(command.job_id(), volume.status(), 0, 0);
  DXLOG(INFO) << "job " << command.job_id() << ": backing up "
              << (*volume)->name() << " (" << (*volume)->path() << ")";
  auto progress = ProgressReporter(command.job_id());
  uint64_t files = 0;
  absl::StatusOr<v1::UploadResult> stored = RunBackupJob(
      command, **volume, settings_, stub_.get(),
      [this] { return NewDataStub(); }, progress, &files);
  SendResult(command.job_id(), stored.status(),
             stored.ok() ? stored->bytes() : 0, files);
}

void AgentSession::HandleRestore(const v1::RestoreCommand& command) {
  absl::StatusOr<const v1::Volume*> volume = FindVolume(command.volume());
  // Under a directory, a volume this agent does not have comes back too:
  // a drill's named agent takes every volume of a set.
  v1::Volume elsewhere;
  if (!volume.ok() && !command.to_dir().empty()) {
    elsewhere.set_name(command.volume());
    volume = &elsewhere;
  }
  if (!volume.ok()) return SendResult(command.job_id(), volume.status(), 0, 0);
  DXLOG(INFO) << "job " << command.job_id() << ": restoring "
              << (*volume)->name() << " into "
              << (command.to_dir().empty() ? (*volume)->path()
                                           : command.to_dir());
  absl::StatusOr<uint64_t> files = RunRestoreJob(
      command, **volume, stub_.get(), ProgressReporter(command.job_id()));
  SendResult(command.job_id(), files.status(), command.bytes(),
             files.ok() ? *files : 0);
}

void AgentSession::HandleCommandCapture(const v1::CommandCapture& command) {
  DXLOG(INFO) << "job " << command.job_id() << ": running the command of "
              << command.name();
  std::string log;
  absl::StatusOr<v1::UploadResult> stored = RunCommandCapture(
      command, [this] { return NewDataStub(); }, settings_.upload,
      ProgressReporter(command.job_id()), &commands_, *time_, &log);
  SendResult(command.job_id(), stored.status(),
             stored.ok() ? stored->bytes() : 0, 0, log);
}

void AgentSession::HandleCommandRestore(const v1::CommandRestore& command) {
  DXLOG(INFO) << "job " << command.job_id()
              << ": running the restore command of " << command.name();
  std::string log;
  absl::Status s = RunCommandRestore(command, stub_.get(),
                                     ProgressReporter(command.job_id()),
                                     &commands_, *time_, &log);
  SendResult(command.job_id(), s, command.bytes(), 0, log);
}

std::function<void(uint64_t)> AgentSession::ProgressReporter(
    const std::string& job_id) {
  struct Last {
    uint64_t bytes = 0;
    common::TimeSource::MonotonicTime time;
  };
  auto last = std::make_shared<Last>();
  return [this, job_id, last](uint64_t bytes) {
    const auto now = time_->Monotonic();
    if (bytes < last->bytes + kProgressEveryBytes &&
        now < last->time + kProgressEvery) {
      return;
    }
    *last = {bytes, now};
    v1::AgentMessage p;
    p.mutable_progress()->set_job_id(job_id);
    p.mutable_progress()->set_bytes(bytes);
    Send(p);
  };
}

void AgentSession::StartJob(const std::string& job_id,
                            std::function<void()> work) {
  JoinJobs(/*only_finished=*/true);
  auto finished = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<common::Cancellation> cancel;
  if (!job_id.empty()) {
    cancel = std::make_shared<common::Cancellation>();
    std::lock_guard<std::mutex> lock(mu_);
    cancels_[job_id] = cancel;
  }
  std::thread thread([this, job_id, cancel, work = std::move(work), finished] {
    {
      // The commands the job starts (RunningCommand) die on a CancelJob.
      common::CancellationScope scope(cancel.get());
      work();
    }
    if (cancel != nullptr) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cancels_.find(job_id);
      if (it != cancels_.end() && it->second == cancel) cancels_.erase(it);
    }
    finished->store(true);
  });
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.push_back(JobThread{std::move(thread), finished});
}

void AgentSession::CancelJob(const v1::CancelJob& cancel) {
  std::shared_ptr<common::Cancellation> job;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cancels_.find(cancel.job_id());
    if (it == cancels_.end()) return;  // ended already
    job = it->second;
  }
  DXLOG(WARNING) << "job " << cancel.job_id()
                 << ": stopping, the scheduler says: " << cancel.reason();
  job->Cancel(cancel.reason().empty() ? "cancelled by the scheduler"
                                      : cancel.reason());
}

void AgentSession::JoinJobs(bool only_finished) {
  std::vector<JobThread> to_join;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (!only_finished || it->finished->load()) {
        to_join.push_back(std::move(*it));
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (JobThread& job : to_join) job.thread.join();
}

}  // namespace dxbackup::agent
