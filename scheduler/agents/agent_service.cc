#include "scheduler/agents/agent_service.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/replica_redirect.h"
#include "common/resource_names.h"

namespace dxbackup::scheduler {
namespace {

using Parts = AgentServiceImpl::Parts;

constexpr int kDefaultHeartbeatSeconds = 10;

// The agent protocol's data calls name a job: the caller's token must be an
// agent token of the namespace (and release) of the agent given that job.
// From memory only (the board and the registry's index of agents): no
// catalog read.
absl::Status AuthorizeJob(const Parts& parts,
                          const grpc::CallbackServerContext* context,
                          const std::string& job_id) {
  if (parts.auth == nullptr || !parts.auth->enabled()) return absl::OkStatus();
  absl::StatusOr<std::string> agent = parts.board->AgentOf(job_id);
  if (!agent.ok()) return agent.status();
  absl::StatusOr<std::pair<std::string, std::string>> deployment =
      parts.registry->DeploymentOf(*agent);
  if (!deployment.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("job ", job_id, " belongs to no registered agent"));
  }
  return parts.auth
      ->RequireAgent(*context, deployment->first, deployment->second)
      .status();
}

// "127.0.0.1" of "ipv4:127.0.0.1:40000": the caller when tokens are off.
std::string PeerHost(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

// Admits a call of the agent protocol before anything of it is read: an
// agent token when tokens are on (so that no unauthenticated stream is
// held open), and one of the caller's stream slots.
absl::StatusOr<CallerLimits::Slot> Admit(
    const Parts& parts, CallerLimits* limits,
    const grpc::CallbackServerContext* context) {
  std::string caller;
  if (parts.auth != nullptr && parts.auth->enabled()) {
    absl::StatusOr<v1::Token> token = parts.auth->Caller(*context);
    if (!token.ok()) return token.status();
    if (token->role() != v1::Token::AGENT) {
      return absl::PermissionDeniedError(
          absl::StrCat("token ", token->name(), " is not an agent token"));
    }
    caller = absl::StrCat("token ", token->name());
  } else {
    caller = absl::StrCat("peer ", PeerHost(context->peer()));
  }
  return limits->AcquireStream(caller);
}

// Every name of a hello that becomes part of an id, a store path or a
// catalog key: DNS labels for namespace, release and pod, plain names for
// component and volumes.
absl::Status CheckHelloNames(const v1::Hello& hello) {
  for (auto [field, value] : {std::pair<const char*, const std::string*>{
                                  "namespace", &hello.namespace_()},
                              {"release", &hello.release()},
                              {"pod", &hello.pod()}}) {
    if (absl::Status s = common::CheckDnsLabel(field, *value); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = common::CheckSimpleName("component", hello.component());
      !s.ok()) {
    return s;
  }
  for (const v1::Volume& volume : hello.volumes()) {
    if (absl::Status s = common::CheckSimpleName("volume", volume.name());
        !s.ok()) {
      return s;
    }
    if (volume.shared_id().empty()) continue;
    if (absl::Status s =
            common::CheckVolumeIdentity("volume identity", volume.shared_id());
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// The scheduler's end of one agent's Connect stream.
//
// A message that writes the catalog (the hello that registers the agent, a
// job's progress or result) is handled on the control worker, which then
// reads the next message; a heartbeat (memory only) is handled in the
// reaction. The end of the stream (unregistering the agent, failing its
// connection's jobs) runs on the worker too, and deletes the reactor. The
// lifetime rule is the UploadReactor's: no Finish while a task of this
// stream is posted or running (one wanted meanwhile is issued by the
// task's end), so OnDone cannot come before the task is done with it.
class ControlStream
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::SchedulerMessage>,
      public AgentChannel {
 public:
  // `worker` must outlive the stream (the service owns both).
  ControlStream(const Parts& parts, CallerLimits* limits, ReactorWorker* worker,
                grpc::CallbackServerContext* context)
      : parts_(parts), worker_(worker), context_(context) {
    absl::StatusOr<CallerLimits::Slot> slot = Admit(parts_, limits, context);
    if (!slot.ok()) {
      EndStream(common::ToGrpcStatus(slot.status()));
      return;
    }
    slot_ = std::move(*slot);
    StartRead(&in_);
  }

  bool Send(const v1::SchedulerMessage& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (finishing_) return false;
    // The agent reads a welcome first. A job can be given to this
    // connection as soon as it is registered, before the welcome is
    // queued: such a command waits for the welcome.
    if (!welcomed_ && !message.has_welcome()) {
      held_.push_back(message);
      return true;
    }
    out_.push_back(message);
    if (message.has_welcome()) {
      welcomed_ = true;
      for (v1::SchedulerMessage& m : held_) out_.push_back(std::move(m));
      held_.clear();
    }
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
    if (!agent_id_.empty() && in_.has_heartbeat()) {
      parts_.registry->Touch(agent_id_);
      StartRead(&in_);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++holds_;
    }
    const bool posted = worker_->Post([this] {
      const bool go_on = Handle();
      AfterTask(go_on);
    });
    if (!posted) {
      AfterTask(false);
      EndStream(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                             "the scheduler is too busy to take this agent's "
                             "messages now; reconnect later"));
    }
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
    // The catalog writes of the end run on the worker, like the stream's
    // others; inline only when the worker takes no more (it is stopping).
    if (!worker_->Post([this] { End(); })) End();
  }

 private:
  // The stream is over: unregisters the agent, fails its connection's
  // jobs, and deletes the reactor, once no task holds it (a read that
  // completed as the call finished may still have posted one).
  void End() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      released_.wait(lock, [this] { return holds_ == 0; });
    }
    if (!agent_id_.empty()) {
      parts_.registry->Unregister(agent_id_, this);
      std::string reason;
      {
        std::lock_guard<std::mutex> lock(mu_);
        reason = close_reason_;
      }
      // The jobs given to this connection, whether or not the agent has
      // connected again since: no other connection may report on them.
      parts_.board->FailSessionJobs(
          session_,
          absl::UnavailableError(
              reason.empty() ? absl::StrCat("agent ", agent_id_,
                                            " disconnected while the job ran")
                             : reason));
    }
    delete this;
  }

  // On the worker: the message just read. False when the stream was ended.
  bool Handle() {
    if (agent_id_.empty()) return Welcome();
    if (in_.has_progress()) {
      Refused(parts_.board->Progress(session_, in_.progress().job_id(),
                                     in_.progress().bytes(),
                                     in_.progress().files()));
    } else if (in_.has_result()) {
      Refused(parts_.board->ReportResult(session_, in_.result()));
    }
    return true;
  }

  // The end of a task (or of a post refused): reads the next message if
  // the stream goes on, then lets go, issuing a Finish wanted meanwhile.
  // Still held while StartRead is called: the read's reaction may post the
  // next task before this one lets go.
  void AfterTask(bool go_on) {
    bool read;
    {
      std::lock_guard<std::mutex> lock(mu_);
      read = go_on && !finishing_;
    }
    if (read) StartRead(&in_);
    // Nothing of the stream is touched after this unlock: End() may delete
    // it as soon as holds_ is zero.
    std::lock_guard<std::mutex> lock(mu_);
    if (--holds_ > 0) return;
    released_.notify_all();
    if (finishing_ && !finished_) {
      finished_ = true;
      Finish(finish_status_);
    }
  }

  // Handles the first message; false when the stream was ended.
  bool Welcome() {
    if (!in_.has_hello()) {
      EndStream(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "the first message must be a hello"));
      return false;
    }
    const v1::Hello& hello = in_.hello();
    if (absl::Status valid = CheckHelloNames(hello); !valid.ok()) {
      DXLOG(WARNING) << "agent refused: " << valid.message();
      EndStream(common::ToGrpcStatus(valid));
      return false;
    }
    std::string binding;
    if (parts_.auth != nullptr && parts_.auth->enabled()) {
      absl::StatusOr<v1::Token> token = parts_.auth->RequireAgent(
          *context_, hello.namespace_(), hello.release());
      if (!token.ok()) {
        DXLOG(WARNING) << "agent " << AgentRegistry::AgentId(hello)
                       << " refused: " << token.status().message();
        EndStream(common::ToGrpcStatus(token.status()));
        return false;
      }
      binding = TokenBinding(*token);
    }
    if (!RoutedHere(hello)) return false;
    absl::StatusOr<Registration> registered =
        parts_.registry->Register(hello, binding, this);
    if (!registered.ok()) {
      EndStream(common::ToGrpcStatus(registered.status()));
      return false;
    }
    agent_id_ = registered->agent_id;
    session_ = registered->session;
    v1::SchedulerMessage welcome;
    welcome.mutable_welcome()->set_agent_id(agent_id_);
    const int beat = parts_.config->heartbeat_seconds();
    welcome.mutable_welcome()->set_heartbeat_seconds(
        beat > 0 ? beat : kDefaultHeartbeatSeconds);
    welcome.mutable_welcome()->set_replica_address(parts_.replica_address);
    Send(welcome);
    return true;
  }

  // True when this replica runs the hello's deployment; otherwise ends
  // the stream, sending the agent to the replica that does (or, when
  // that cannot be said, to try again).
  bool RoutedHere(const v1::Hello& hello) {
    if (parts_.router == nullptr) return true;
    absl::StatusOr<std::string> elsewhere =
        parts_.router->Route(hello.namespace_(), hello.release());
    const std::string deployment = hello.namespace_() + "/" + hello.release();
    if (!elsewhere.ok()) {
      DXLOG(WARNING) << "agent " << AgentRegistry::AgentId(hello)
                     << " not taken: " << elsewhere.status().message();
      EndStream(grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          absl::StrCat("this scheduler replica cannot take the agents of ",
                       deployment, " now (", elsewhere.status().message(),
                       "); reconnect")));
      return false;
    }
    if (elsewhere->empty()) return true;
    context_->AddTrailingMetadata(common::kOwnerAddressKey, *elsewhere);
    EndStream(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat(deployment, " is run by the scheduler replica at ",
                     *elsewhere, ": connect there")));
    return false;
  }

  // Logs a report on a job that this connection may not make. Reports on
  // jobs that ended meanwhile are normal and pass quietly.
  void Refused(const absl::Status& status) {
    if (absl::IsPermissionDenied(status)) {
      DXLOG(WARNING) << "agent " << agent_id_
                     << ": refused a report: " << status.message();
    }
  }

  // Ends the call with `status` (the first end wins): at once, or, while a
  // task holds the stream, when it lets go.
  void EndStream(const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finishing_) return;
    finishing_ = true;
    if (holds_ > 0) {
      finish_status_ = status;
      return;
    }
    finished_ = true;
    Finish(status);
  }

  Parts parts_;
  ReactorWorker* worker_;
  grpc::CallbackServerContext* context_;
  CallerLimits::Slot slot_;
  v1::AgentMessage in_;
  std::string agent_id_;  // set once, by the reading side
  uint64_t session_ = 0;  // likewise
  std::mutex mu_;
  std::deque<v1::SchedulerMessage> out_;
  std::vector<v1::SchedulerMessage> held_;  // given before the welcome
  bool welcomed_ = false;
  bool writing_ = false;
  bool finishing_ = false;            // an end was asked for; no more sends
  bool finished_ = false;             // Finish was called
  int holds_ = 0;                     // tasks posted and not yet done
  std::condition_variable released_;  // holds_ went to zero
  grpc::Status finish_status_;        // the end asked for while held
  std::string close_reason_;
};

// Cancels a call from another thread while the call lives, and does
// nothing after.
class CancelHandle {
 public:
  explicit CancelHandle(grpc::CallbackServerContext* context)
      : context_(context) {}
  void Cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    if (context_ != nullptr) context_->TryCancel();
  }
  void Forget() {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
  }

 private:
  std::mutex mu_;
  grpc::CallbackServerContext* context_;
};

// One backup stream, written to the store as it arrives through the job's
// UploadSession. Chunks are acknowledged as they are written; a stream that
// breaks before the trailer leaves the session for the agent to resume.
//
// Each chunk (and the input's end) is handled on the ReactorWorker: the
// reaction only posts it, and the task asks for the next chunk when the
// chunk is on disk. Lifetime: `holds_` counts the tasks posted and not yet
// done; no Finish (nor the finishing last write) is issued while it is
// above zero, nor while a read is outstanding (whose reaction would post a
// task), so OnDone, which deletes the reactor, cannot come before a task
// is done with it. A Finish wanted meanwhile (an error, a broken write) is
// recorded in status_ and issued once nothing holds the reactor: a broken
// stream's outstanding read ends at once, and its end is handled as
// before (an upload whose trailer arrived is still completed).
class UploadReactor
    : public grpc::ServerBidiReactor<v1::UploadChunk, v1::UploadReply> {
 public:
  UploadReactor(const Parts& parts, UploadSessions* sessions,
                CallerLimits* limits, grpc::CallbackServerContext* context)
      : parts_(parts),
        sessions_(sessions),
        context_(context),
        handle_(std::make_shared<CancelHandle>(context)) {
    absl::StatusOr<CallerLimits::Slot> slot = Admit(parts_, limits, context);
    if (!slot.ok()) {
      End(common::ToGrpcStatus(slot.status()));
      return;
    }
    slot_ = std::move(*slot);
    admitted_ = true;
  }

  // Starts reading, with the disk work done on `worker`. Called once, by
  // the service, before the reactor is handed to gRPC.
  void Start(ReactorWorker* worker) {
    worker_ = worker;
    if (!admitted_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reading_ = true;
    }
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    // chunk_ stays as read until the task is done: the next read starts
    // only then.
    if (ok) {
      Offload([this] { TakeChunk(); });
    } else {
      Offload([this] { InputEnded(); });
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      have_ack_ = false;
      have_last_ = false;
      if (!have_status_) {
        status_ = grpc::Status(grpc::StatusCode::CANCELLED, "stream broken");
        have_status_ = true;
      }
    }
    WriteNextLocked();
  }

  void OnDone() override {
    // Whoever issued the Finish did so under mu_: wait for its unlock.
    { std::lock_guard<std::mutex> lock(mu_); }
    if (attached_.session != nullptr) {
      sessions_->Detach(attached_.session, attached_.stream);
    }
    handle_->Forget();
    delete this;
  }

 private:
  // From a read's reaction: runs `work` on the worker, then resumes the
  // call (see Resume). The read's end and the task's hold are one step, so
  // that no Finish slips in between.
  void Offload(std::function<void()> work) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      reading_ = false;
      if (finished_) return;  // not reached: no Finish while reading
      ++holds_;
    }
    const bool posted = worker_->Post([this, work = std::move(work)] {
      work();
      Resume();
    });
    if (!posted) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        --holds_;
      }
      End(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                       "the scheduler is too busy to store this upload now; "
                       "resume it later"));
    }
  }

  // After a task: reads the next chunk if the task asked for it, then
  // lets a Finish wanted meanwhile go out. Nothing of the reactor is
  // touched after the last unlock of mu_.
  void Resume() {
    bool read = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      read = read_next_ && !have_status_ && !finished_;
      read_next_ = false;
      if (read) reading_ = true;
    }
    // Still held here: the read's reaction may post the next task (and
    // take its own hold) before this one lets go.
    if (read) StartRead(&chunk_);
    std::lock_guard<std::mutex> lock(mu_);
    --holds_;
    WriteNextLocked();
  }

  // On the worker: the chunk just read.
  void TakeChunk() {
    if (attached_.session == nullptr) {
      absl::Status allowed = AuthorizeJob(parts_, context_, chunk_.job_id());
      if (!allowed.ok()) return End(common::ToGrpcStatus(allowed));
      auto attached = sessions_->Attach(
          chunk_.job_id(), [handle = handle_] { handle->Cancel(); });
      if (!attached.ok()) return End(common::ToGrpcStatus(attached.status()));
      attached_ = *attached;
    }
    absl::Status s = attached_.session->Accept(attached_.stream, chunk_);
    if (!s.ok()) return End(common::ToGrpcStatus(s));
    v1::UploadReply ack;
    ack.set_next_sequence(attached_.session->next_sequence());
    Reply(ack, /*last=*/false);
    std::lock_guard<std::mutex> lock(mu_);
    read_next_ = true;
  }

  // On the worker: the input ended.
  void InputEnded() {
    if (attached_.session == nullptr) {
      return End(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          "the upload ended before its first chunk arrived: the agent went "
          "away, or sent a chunk that could not be read (a newer agent "
          "than this scheduler?)"));
    }
    if (!attached_.session->has_trailer()) {
      // A cut stream, or an agent that gave up (its job result follows).
      DXLOG(INFO) << "upload of job " << chunk_.job_id()
                  << " interrupted after " << attached_.session->bytes()
                  << " bytes; kept for the agent to resume while the job runs";
      return End(grpc::Status(
          grpc::StatusCode::CANCELLED,
          absl::StrCat("upload ended without its trailer; resume from chunk ",
                       attached_.session->next_sequence())));
    }
    absl::StatusOr<v1::UploadResult> result = sessions_->Complete(attached_);
    if (!result.ok()) return End(common::ToGrpcStatus(result.status()));
    v1::UploadReply reply;
    reply.set_next_sequence(attached_.session->next_sequence());
    *reply.mutable_result() = *result;
    Reply(reply, /*last=*/true);
  }

  // Queues `reply`; acknowledgements not yet written are replaced by newer
  // ones. The last reply finishes the call with OK.
  void Reply(const v1::UploadReply& reply, bool last) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_ || have_status_) return;
    if (last) {
      last_ = reply;
      have_last_ = true;
    } else {
      ack_ = reply;
      have_ack_ = true;
    }
    WriteNextLocked();
  }

  // Starts the next write; the finishing ones only when no task holds the
  // reactor and no read is outstanding.
  void WriteNextLocked() {
    if (writing_ || finished_) return;
    if (have_ack_) {
      have_ack_ = false;
      out_ = ack_;
      writing_ = true;
      StartWrite(&out_);
    } else if (holds_ > 0 || reading_) {
      return;
    } else if (have_last_) {
      have_last_ = false;
      out_ = last_;
      writing_ = true;
      finished_ = true;
      StartWriteAndFinish(&out_, grpc::WriteOptions(), grpc::Status::OK);
    } else if (have_status_) {
      finished_ = true;
      Finish(status_);
    }
  }

  // Ends the call with `status` once a write in flight is done, no task
  // holds the reactor and no read is outstanding.
  void End(const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_ || have_status_) return;
    have_ack_ = false;
    have_last_ = false;
    status_ = status;
    have_status_ = true;
    WriteNextLocked();
  }

  Parts parts_;
  UploadSessions* sessions_;
  grpc::CallbackServerContext* context_;
  std::shared_ptr<CancelHandle> handle_;
  CallerLimits::Slot slot_;
  bool admitted_ = false;
  ReactorWorker* worker_ = nullptr;
  v1::UploadChunk chunk_;              // tasks' only, between reads
  UploadSessions::Attached attached_;  // likewise

  std::mutex mu_;  // guards the reply side and the holds
  v1::UploadReply ack_, last_, out_;
  bool have_ack_ = false, have_last_ = false, writing_ = false;
  bool have_status_ = false, finished_ = false;
  grpc::Status status_;
  int holds_ = 0;           // tasks posted and not done
  bool reading_ = false;    // a read is outstanding
  bool read_next_ = false;  // the task done asks for the next chunk
};

// One restore stream, read from the store as the agent takes it.
//
// The store is opened and read on the ReactorWorker: a task reads a chunk
// and ends by starting its write (or by Finish); the write's reaction posts
// the next task. So a task is posted only while no write is in flight,
// Finish is only ever the last thing a task or a reaction does, and OnDone
// (which deletes the reactor) cannot come while a task is pending.
// A write reactor's task on the ReactorWorker: `step` fills `*chunk`
// (nullopt) or says how the call ends; then the task's last act, a
// StartWrite or a Finish. Successive tasks of one reactor may run on
// different worker threads, handed on through gRPC (StartWrite, then
// OnWriteDone posts the next): `mu`, held while the step touches the
// reactor's state and released before the last act (after which OnDone
// may delete the reactor), makes that hand-off one ThreadSanitizer sees.
template <typename Chunk, typename Step>
void StepThenWrite(grpc::ServerWriteReactor<Chunk>* reactor, std::mutex* mu,
                   Chunk* chunk, Step step) {
  std::optional<grpc::Status> end;
  {
    std::lock_guard<std::mutex> lock(*mu);
    end = step();
  }
  if (end.has_value()) {
    reactor->Finish(*end);
  } else {
    reactor->StartWrite(chunk);
  }
}

class DownloadReactor : public grpc::ServerWriteReactor<v1::DownloadChunk> {
 public:
  DownloadReactor(const Parts& parts, CallerLimits* limits,
                  const grpc::CallbackServerContext* context,
                  const v1::DownloadRequest& request)
      : parts_(parts), job_id_(request.job_id()) {
    absl::StatusOr<CallerLimits::Slot> slot = Admit(parts_, limits, context);
    if (!slot.ok()) {
      Finish(common::ToGrpcStatus(slot.status()));
      return;
    }
    slot_ = std::move(*slot);
    absl::Status allowed = AuthorizeJob(parts, context, request.job_id());
    if (!allowed.ok()) {
      Finish(common::ToGrpcStatus(allowed));
      return;
    }
    absl::StatusOr<CallerLimits::Slot> download =
        limits->AcquireDownload(job_id_);
    if (!download.ok()) {
      Finish(common::ToGrpcStatus(download.status()));
      return;
    }
    download_slot_ = std::move(*download);
    absl::StatusOr<v1::Artifact> artifact =
        parts.board->RestoreSource(request.job_id(), request.part());
    if (!artifact.ok()) {
      Finish(common::ToGrpcStatus(artifact.status()));
      return;
    }
    artifact_ = *std::move(artifact);
    ready_ = true;
  }

  // Starts sending, with the store read on `worker`. Called once, by the
  // service, before the reactor is handed to gRPC.
  void Start(ReactorWorker* worker) {
    worker_ = worker;
    if (ready_) Post();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "download cancelled"));
      return;
    }
    Post();
  }

  void OnDone() override { delete this; }

 private:
  void Post() {
    if (!worker_->Post([this] { Next(); })) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "the scheduler is too busy to read the artifact "
                          "now; download again later"));
    }
  }

  // On the worker (see StepThenWrite).
  void Next() {
    StepThenWrite(this, &task_mu_, &chunk_, [this] { return Step(); });
  }

  // Fills chunk_ (nullopt) or says how the call ends.
  std::optional<grpc::Status> Step() {
    // A restore whose job ended (failed, timed out, the set's run stopped)
    // gets nothing more: its agent must not go on writing.
    if (!parts_.board->IsRunning(job_id_)) {
      return grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrCat("restore job ", job_id_,
                       " has ended; the download stops with it"));
    }
    if (reader_ == nullptr) {
      // An encrypted artifact goes to the agent in clear (over the
      // connection's TLS), decrypted with the keys its restore was given.
      absl::StatusOr<std::unique_ptr<ArtifactReader>> reader =
          parts_.keys->OpenPlain(*parts_.store, artifact_,
                                 parts_.grants->For(job_id_));
      if (!reader.ok()) {
        return common::ToGrpcStatus(absl::Status(
            absl::IsNotFound(reader.status()) ? absl::StatusCode::kDataLoss
                                              : reader.status().code(),
            absl::StrCat("stored artifact ", artifact_.path(),
                         " cannot be read: ", reader.status().message())));
      }
      reader_ = std::move(*reader);
      buffer_.resize(kMaxChunkBytes);
    }
    absl::StatusOr<size_t> n = reader_->Read(buffer_.data(), buffer_.size());
    if (!n.ok()) {
      return grpc::Status(grpc::StatusCode::DATA_LOSS,
                          std::string(n.status().message()));
    }
    if (*n == 0) return grpc::Status::OK;
    chunk_.set_sequence(sequence_++);
    chunk_.set_data(buffer_.data(), *n);
    return std::nullopt;
  }

  Parts parts_;
  std::string job_id_;
  CallerLimits::Slot slot_, download_slot_;
  v1::Artifact artifact_;
  bool ready_ = false;
  ReactorWorker* worker_ = nullptr;
  std::mutex task_mu_;                      // see StepThenWrite
  std::unique_ptr<ArtifactReader> reader_;  // the tasks' only
  std::string buffer_;
  v1::DownloadChunk chunk_;
  uint64_t sequence_ = 0;
};

// An incremental backup job's base index, a page of the catalog at a time
// as the agent takes it. Pages are read on the ReactorWorker, as the
// DownloadReactor reads chunks (and with the same lifetime rule).
class BaseIndexReactor : public grpc::ServerWriteReactor<v1::BaseIndexChunk> {
 public:
  BaseIndexReactor(const Parts& parts, CallerLimits* limits,
                   const grpc::CallbackServerContext* context,
                   const v1::BaseIndexRequest& request)
      : parts_(parts) {
    absl::StatusOr<CallerLimits::Slot> slot = Admit(parts_, limits, context);
    if (!slot.ok()) {
      Finish(common::ToGrpcStatus(slot.status()));
      return;
    }
    slot_ = std::move(*slot);
    absl::Status allowed = AuthorizeJob(parts, context, request.job_id());
    if (!allowed.ok()) {
      Finish(common::ToGrpcStatus(allowed));
      return;
    }
    absl::StatusOr<v1::Artifact> job =
        parts.board->IncrementalBackup(request.job_id());
    if (!job.ok()) {
      Finish(common::ToGrpcStatus(job.status()));
      return;
    }
    base_set_id_ = job->base_set_id();
    target_ = job->target();
    ready_ = true;
  }

  // As DownloadReactor::Start.
  void Start(ReactorWorker* worker) {
    worker_ = worker;
    if (ready_) Post();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "base index cancelled"));
      return;
    }
    Post();
  }

  void OnDone() override { delete this; }

 private:
  static constexpr int kPageEntries = 2000;

  void Post() {
    if (!worker_->Post([this] { Next(); })) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "the scheduler is too busy to read the base index "
                          "now; ask again later"));
    }
  }

  // On the worker (see StepThenWrite).
  void Next() {
    StepThenWrite(this, &task_mu_, &chunk_, [this] { return Step(); });
  }

  // Fills chunk_ with the next page (nullopt) or says how the call ends.
  std::optional<grpc::Status> Step() {
    auto page =
        parts_.files->FilesAfter(base_set_id_, target_, after_, kPageEntries);
    if (!page.ok()) return common::ToGrpcStatus(page.status());
    if (page->empty()) return grpc::Status::OK;
    after_ = page->back().path();
    chunk_.Clear();
    for (v1::FileEntry& e : *page) *chunk_.add_entries() = std::move(e);
    return std::nullopt;
  }

  Parts parts_;
  CallerLimits::Slot slot_;
  std::string base_set_id_, target_, after_;
  bool ready_ = false;
  ReactorWorker* worker_ = nullptr;
  std::mutex task_mu_;  // see StepThenWrite
  v1::BaseIndexChunk chunk_;
};

}  // namespace

namespace {

AgentServiceImpl::Parts WithKeys(AgentServiceImpl::Parts parts,
                                 const crypto::KeyRing* no_keys,
                                 const crypto::KeyGrants* no_grants) {
  if (parts.keys == nullptr) parts.keys = no_keys;
  if (parts.grants == nullptr) parts.grants = no_grants;
  return parts;
}

}  // namespace

AgentServiceImpl::AgentServiceImpl(const Parts& parts)
    : parts_(WithKeys(parts, &no_keys_, &no_grants_)),
      sessions_({parts_.files, parts_.store, parts_.keys, parts_.board,
                 parts_.clock}),
      limits_(parts.config->limits().max_streams_per_caller(),
              parts.config->limits().max_downloads_per_job()) {}

grpc::ServerBidiReactor<v1::AgentMessage, v1::SchedulerMessage>*
AgentServiceImpl::Connect(grpc::CallbackServerContext* context) {
  return new ControlStream(parts_, &limits_, &control_worker_, context);
}

grpc::ServerBidiReactor<v1::UploadChunk, v1::UploadReply>*
AgentServiceImpl::Upload(grpc::CallbackServerContext* context) {
  auto* reactor = new UploadReactor(parts_, &sessions_, &limits_, context);
  reactor->Start(&worker_);
  return reactor;
}

grpc::ServerWriteReactor<v1::DownloadChunk>* AgentServiceImpl::Download(
    grpc::CallbackServerContext* context, const v1::DownloadRequest* request) {
  auto* reactor = new DownloadReactor(parts_, &limits_, context, *request);
  reactor->Start(&worker_);
  return reactor;
}

grpc::ServerWriteReactor<v1::BaseIndexChunk>* AgentServiceImpl::BaseIndex(
    grpc::CallbackServerContext* context, const v1::BaseIndexRequest* request) {
  auto* reactor = new BaseIndexReactor(parts_, &limits_, context, *request);
  reactor->Start(&worker_);
  return reactor;
}

}  // namespace dxbackup::scheduler
