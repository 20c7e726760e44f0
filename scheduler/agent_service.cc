#include "scheduler/agent_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/log.h"

namespace dxbackup::scheduler {
namespace {

constexpr int kDefaultHeartbeatSeconds = 10;

// The agent protocol's data calls name a job: the caller's token must be an
// agent token of the namespace (and release) of the agent given that job.
absl::Status AuthorizeJob(const SchedulerState& state,
                          const grpc::CallbackServerContext* context,
                          const std::string& job_id) {
  if (state.auth == nullptr || !state.auth->enabled()) return absl::OkStatus();
  absl::StatusOr<std::string> agent = state.board->AgentOf(job_id);
  if (!agent.ok()) return agent.status();
  for (const v1::AgentInfo& a : state.registry->AllAgents()) {
    if (a.id() == *agent) {
      return state.auth->RequireAgent(*context, a.namespace_(), a.release());
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("job ", job_id, " belongs to no registered agent"));
}

// The scheduler's end of one agent's Connect stream.
class ControlStream
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::SchedulerMessage>,
      public AgentChannel {
 public:
  ControlStream(SchedulerState state, grpc::CallbackServerContext* context)
      : state_(state), context_(context) {
    StartRead(&in_);
  }

  bool Send(const v1::SchedulerMessage& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (finishing_) return false;
    out_.push_back(message);
    if (!writing_) {
      writing_ = true;
      StartWrite(&out_.front());
    }
    return true;
  }

  void Close(const std::string& reason) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (close_reason_.empty()) close_reason_ = reason;
    }
    EndStream(grpc::Status(grpc::StatusCode::ABORTED, reason));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      EndStream(grpc::Status::OK);
      return;
    }
    if (agent_id_.empty()) {
      if (!Welcome()) return;
    } else if (in_.has_heartbeat()) {
      state_.registry->Touch(agent_id_);
    } else if (in_.has_progress()) {
      state_.board->Progress(in_.progress().job_id(), in_.progress().bytes(),
                             in_.progress().files());
    } else if (in_.has_result()) {
      state_.board->ReportResult(in_.result());
    }
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    out_.pop_front();
    if (ok && !finishing_ && !out_.empty()) {
      StartWrite(&out_.front());
    } else {
      writing_ = false;
    }
  }

  void OnDone() override {
    if (!agent_id_.empty() && state_.registry->Unregister(agent_id_, this)) {
      std::string reason;
      {
        std::lock_guard<std::mutex> lock(mu_);
        reason = close_reason_;
      }
      state_.board->FailAgentJobs(
          agent_id_, reason.empty()
                         ? absl::StrCat("agent ", agent_id_,
                                        " disconnected while the job ran")
                         : reason);
    }
    delete this;
  }

 private:
  // Handles the first message; false when the stream was ended.
  bool Welcome() {
    if (!in_.has_hello()) {
      EndStream(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "the first message must be a hello"));
      return false;
    }
    const v1::Hello& hello = in_.hello();
    if (hello.namespace_().empty() || hello.release().empty() ||
        hello.pod().empty() || hello.component().empty()) {
      EndStream(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "hello needs namespace, release, pod and component"));
      return false;
    }
    if (state_.auth != nullptr) {
      absl::Status allowed = state_.auth->RequireAgent(
          *context_, hello.namespace_(), hello.release());
      if (!allowed.ok()) {
        DXLOG(WARNING) << "agent " << hello.namespace_() << "/" << hello.pod()
                       << " refused: " << allowed.message();
        EndStream(common::ToGrpcStatus(allowed));
        return false;
      }
    }
    agent_id_ = state_.registry->Register(hello, this);
    v1::SchedulerMessage welcome;
    welcome.mutable_welcome()->set_agent_id(agent_id_);
    const int beat = state_.config->heartbeat_seconds();
    welcome.mutable_welcome()->set_heartbeat_seconds(
        beat > 0 ? beat : kDefaultHeartbeatSeconds);
    Send(welcome);
    return true;
  }

  void EndStream(const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finishing_) return;
    finishing_ = true;
    Finish(status);
  }

  SchedulerState state_;
  grpc::CallbackServerContext* context_;
  v1::AgentMessage in_;
  std::string agent_id_;  // set once, by the reading side
  std::mutex mu_;
  std::deque<v1::SchedulerMessage> out_;
  bool writing_ = false;
  bool finishing_ = false;
  std::string close_reason_;
};

// One backup stream, written to the store as it arrives.
class UploadReactor : public grpc::ServerReadReactor<v1::UploadChunk> {
 public:
  UploadReactor(SchedulerState state, grpc::CallbackServerContext* context,
                v1::UploadResult* response)
      : state_(state), context_(context), response_(response) {
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Complete();
      return;
    }
    if (have_trailer_) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("job ", job_id_, ": data after the trailer")));
    }
    if (pending_ == nullptr) {
      absl::Status s = Begin();
      if (!s.ok())
        return Fail(s, /*fail_job=*/s.code() != absl::StatusCode::kNotFound &&
                           s.code() != absl::StatusCode::kAlreadyExists);
    }
    if (chunk_.job_id() != job_id_ || chunk_.sequence() != next_sequence_ ||
        chunk_.data().size() > kMaxChunkBytes) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("job ", job_id_, ": malformed chunk ", chunk_.sequence(),
                       " (expected sequence ", next_sequence_, ", at most ",
                       kMaxChunkBytes, " bytes)")));
    }
    ++next_sequence_;
    if (!state_.board->IsRunning(job_id_)) {
      return Fail(absl::AbortedError(absl::StrCat(
                      "job ", job_id_, " has ended; upload refused")),
                  false);
    }
    absl::Status s =
        pending_->Append(chunk_.data().data(), chunk_.data().size());
    if (s.ok()) {
      s = state_.catalog->AddFiles(artifact_.set_id(), artifact_.target(),
                                   chunk_.entries());
    }
    if (!s.ok()) return Fail(s);
    if (chunk_.has_trailer()) {
      trailer_ = chunk_.trailer();
      have_trailer_ = true;
    }
    StartRead(&chunk_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Begin() {
    job_id_ = chunk_.job_id();
    absl::Status allowed = AuthorizeJob(state_, context_, job_id_);
    if (!allowed.ok()) return allowed;
    absl::StatusOr<v1::Artifact> artifact = state_.board->BeginUpload(job_id_);
    if (!artifact.ok()) return artifact.status();
    artifact_ = *artifact;
    auto pending = state_.store->Begin(artifact_.path());
    if (!pending.ok()) return pending.status();
    pending_ = std::move(*pending);
    return absl::OkStatus();
  }

  void Complete() {
    if (pending_ == nullptr) {
      return Fail(absl::InvalidArgumentError(
                      "the upload ended before its first chunk arrived: the "
                      "agent went away, or sent a chunk that could not be "
                      "read (a newer agent than this scheduler?)"),
                  false);
    }
    if (!have_trailer_) {
      return Fail(absl::CancelledError(absl::StrCat(
          "upload of ", artifact_.target(), " ended after ", pending_->bytes(),
          " bytes without its trailer: the agent stopped or lost its "
          "connection; nothing was stored")));
    }
    if (trailer_.bytes() != pending_->bytes()) {
      return Fail(absl::DataLossError(
          absl::StrCat("upload of ", artifact_.target(), ": the agent sent ",
                       trailer_.bytes(), " bytes but ", pending_->bytes(),
                       " arrived; nothing was stored")));
    }
    absl::Status s = pending_->Commit(trailer_.sha256());
    if (!s.ok()) return Fail(s);
    artifact_.set_bytes(pending_->bytes());
    artifact_.set_sha256(pending_->sha256());
    artifact_.set_file_count(trailer_.files());
    if (!trailer_.fix_level().empty()) {
      artifact_.set_fix_level(trailer_.fix_level());
    }
    artifact_.set_created_unix(state_.clock->NowUnix());
    s = state_.board->CompleteWithArtifact(job_id_, artifact_);
    if (!s.ok()) {
      std::remove(state_.store->AbsolutePath(artifact_.path()).c_str());
      return Fail(s);
    }
    response_->set_bytes(artifact_.bytes());
    response_->set_sha256(artifact_.sha256());
    response_->set_path(artifact_.path());
    Finish(grpc::Status::OK);
  }

  // Ends the upload with `s`; unless told otherwise, the job fails too.
  void Fail(const absl::Status& s, bool fail_job = true) {
    if (pending_ != nullptr) {
      pending_->Abandon();
      state_.catalog->DeleteFiles(artifact_.set_id(), artifact_.target())
          .IgnoreError();
    }
    if (fail_job && !job_id_.empty()) {
      state_.board->Finish(job_id_, false, std::string(s.message()));
    }
    Finish(common::ToGrpcStatus(s));
  }

  SchedulerState state_;
  grpc::CallbackServerContext* context_;
  v1::UploadResult* response_;
  v1::UploadChunk chunk_;
  std::string job_id_;
  v1::Artifact artifact_;
  std::unique_ptr<PendingArtifact> pending_;
  uint64_t next_sequence_ = 0;
  v1::UploadTrailer trailer_;
  bool have_trailer_ = false;
};

// One restore stream, read from the store as the agent takes it.
class DownloadReactor : public grpc::ServerWriteReactor<v1::DownloadChunk> {
 public:
  DownloadReactor(SchedulerState state,
                  const grpc::CallbackServerContext* context,
                  const v1::DownloadRequest& request) {
    absl::Status allowed = AuthorizeJob(state, context, request.job_id());
    if (!allowed.ok()) {
      Finish(common::ToGrpcStatus(allowed));
      return;
    }
    absl::StatusOr<v1::Artifact> artifact =
        state.board->RestoreSource(request.job_id(), request.part());
    if (!artifact.ok()) {
      Finish(common::ToGrpcStatus(artifact.status()));
      return;
    }
    path_ = state.store->AbsolutePath(artifact->path());
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      Finish(grpc::Status(
          grpc::StatusCode::DATA_LOSS,
          absl::StrCat("stored artifact ", path_,
                       " cannot be read: ", std::strerror(errno))));
      return;
    }
    buffer_.resize(kMaxChunkBytes);
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "download cancelled"));
      return;
    }
    Next();
  }

  void OnDone() override {
    if (fd_ >= 0) close(fd_);
    delete this;
  }

 private:
  void Next() {
    ssize_t n;
    do {
      n = read(fd_, buffer_.data(), buffer_.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      Finish(grpc::Status(
          grpc::StatusCode::DATA_LOSS,
          absl::StrCat("cannot read ", path_, ": ", std::strerror(errno))));
      return;
    }
    if (n == 0) {
      Finish(grpc::Status::OK);
      return;
    }
    chunk_.set_sequence(sequence_++);
    chunk_.set_data(buffer_.data(), static_cast<size_t>(n));
    StartWrite(&chunk_);
  }

  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  v1::DownloadChunk chunk_;
  uint64_t sequence_ = 0;
};

// An incremental backup job's base index, a page of the catalog at a time
// as the agent takes it.
class BaseIndexReactor : public grpc::ServerWriteReactor<v1::BaseIndexChunk> {
 public:
  BaseIndexReactor(SchedulerState state,
                   const grpc::CallbackServerContext* context,
                   const v1::BaseIndexRequest& request)
      : state_(state) {
    absl::Status allowed = AuthorizeJob(state, context, request.job_id());
    if (!allowed.ok()) {
      Finish(common::ToGrpcStatus(allowed));
      return;
    }
    absl::StatusOr<v1::Artifact> job =
        state.board->IncrementalBackup(request.job_id());
    if (!job.ok()) {
      Finish(common::ToGrpcStatus(job.status()));
      return;
    }
    base_set_id_ = job->base_set_id();
    target_ = job->target();
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "base index cancelled"));
      return;
    }
    Next();
  }

  void OnDone() override { delete this; }

 private:
  static constexpr int kPageEntries = 2000;

  void Next() {
    auto page =
        state_.catalog->FilesAfter(base_set_id_, target_, after_, kPageEntries);
    if (!page.ok()) {
      Finish(common::ToGrpcStatus(page.status()));
      return;
    }
    if (page->empty()) {
      Finish(grpc::Status::OK);
      return;
    }
    after_ = page->back().path();
    chunk_.Clear();
    for (v1::FileEntry& e : *page) *chunk_.add_entries() = std::move(e);
    StartWrite(&chunk_);
  }

  SchedulerState state_;
  std::string base_set_id_, target_, after_;
  v1::BaseIndexChunk chunk_;
};

}  // namespace

AgentServiceImpl::AgentServiceImpl(SchedulerState state) : state_(state) {}

grpc::ServerBidiReactor<v1::AgentMessage, v1::SchedulerMessage>*
AgentServiceImpl::Connect(grpc::CallbackServerContext* context) {
  return new ControlStream(state_, context);
}

grpc::ServerReadReactor<v1::UploadChunk>* AgentServiceImpl::Upload(
    grpc::CallbackServerContext* context, v1::UploadResult* response) {
  return new UploadReactor(state_, context, response);
}

grpc::ServerWriteReactor<v1::DownloadChunk>* AgentServiceImpl::Download(
    grpc::CallbackServerContext* context, const v1::DownloadRequest* request) {
  return new DownloadReactor(state_, context, *request);
}

grpc::ServerWriteReactor<v1::BaseIndexChunk>* AgentServiceImpl::BaseIndex(
    grpc::CallbackServerContext* context, const v1::BaseIndexRequest* request) {
  return new BaseIndexReactor(state_, context, *request);
}

}  // namespace dxbackup::scheduler
