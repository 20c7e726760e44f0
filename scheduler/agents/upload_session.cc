#include "scheduler/agents/upload_session.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/databases/external_backup.h"

namespace dxbackup::scheduler {

UploadSession::UploadSession(const UploadParts& parts, std::string job_id,
                             v1::Artifact artifact,
                             std::unique_ptr<PendingArtifact> file)
    : parts_(parts),
      job_id_(std::move(job_id)),
      artifact_(std::move(artifact)),
      file_(std::move(file)),
      index_(parts.files, artifact_.set_id(), artifact_.target()) {}

UploadSession::~UploadSession() {
  std::lock_guard<std::mutex> lock(mu_);
  AbandonLocked();
}

void UploadSession::AbandonLocked() {
  index_.Stop();  // the batch being written goes in; nothing after it
  pending_entries_.Clear();
  if (file_ == nullptr) return;
  file_->Abandon();
  file_.reset();
  parts_.files->DeleteFiles(artifact_.set_id(), artifact_.target())
      .IgnoreError();
}

uint64_t UploadSession::next_sequence() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_sequence_;
}

bool UploadSession::has_trailer() const {
  std::lock_guard<std::mutex> lock(mu_);
  return have_trailer_;
}

uint64_t UploadSession::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return file_ == nullptr ? 0 : file_->bytes();
}

absl::Status UploadSession::FailJob(const absl::Status& s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    AbandonLocked();
    cancel_stream_ = nullptr;  // the failing stream reports `s` itself
  }
  parts_.board->Finish(job_id_, s);
  return s;
}

absl::Status UploadSession::Accept(uint64_t stream,
                                   const v1::UploadChunk& chunk) {
  absl::Status error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream != stream_) {
      return absl::AbortedError(absl::StrCat(
          "upload of job ", job_id_, " was taken over by a newer stream"));
    }
    if (file_ == nullptr || !parts_.board->IsRunning(job_id_)) {
      return absl::AbortedError(
          absl::StrCat("job ", job_id_, " has ended; upload refused"));
    }
    if (chunk.job_id() != job_id_ || chunk.sequence() > next_sequence_ ||
        chunk.data().size() > kMaxChunkBytes) {
      error = absl::InvalidArgumentError(absl::StrCat(
          "job ", job_id_, ": malformed chunk ", chunk.sequence(),
          " (expected job ", job_id_, ", sequence ", next_sequence_,
          ", at most ", kMaxChunkBytes, " bytes)"));
    } else if (chunk.sequence() < next_sequence_) {
      return absl::OkStatus();  // resent after a cut; already written
    } else if (have_trailer_) {
      error = absl::InvalidArgumentError(
          absl::StrCat("job ", job_id_, ": data after the trailer"));
    } else {
      error = file_->Append(chunk.data().data(), chunk.data().size());
      if (error.ok()) {
        pending_entries_.MergeFrom(chunk.entries());
        if (chunk.has_trailer()) {
          error = index_.Finish(&pending_entries_);
        } else if (pending_entries_.size() >= batch_entries_) {
          error = index_.Add(&pending_entries_);
          batch_entries_ = std::min(2 * batch_entries_, kIndexBatchEntries);
        }
      }
      if (error.ok()) {
        ++next_sequence_;
        if (chunk.has_trailer()) {
          trailer_ = chunk.trailer();
          have_trailer_ = true;
        }
        return absl::OkStatus();
      }
    }
  }
  return FailJob(error);
}

absl::StatusOr<v1::UploadResult> UploadSession::Complete(uint64_t stream) {
  absl::Status error;
  v1::Artifact stored = artifact_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream != stream_ || file_ == nullptr) {
      return absl::AbortedError(
          absl::StrCat("upload of job ", job_id_, " ended or was taken over"));
    }
    if (!have_trailer_) {
      return absl::FailedPreconditionError(
          absl::StrCat("upload of job ", job_id_, " has no trailer yet"));
    }
    std::string external_id;
    if (artifact_.kind() == v1::ARTIFACT_EXTERNAL_BACKUP) {
      // An agent's external backup command: its identifier is the last
      // line it printed, checked as the scheduler's own runs are.
      external_id = ExternalIdentifier(trailer_.stdout_tail());
      absl::Status valid = CheckExternalIdentifier(external_id);
      if (external_id.empty()) {
        valid = absl::InvalidArgumentError(
            "its backup command printed no identifier (the last line of "
            "its stdout)");
      } else if (trailer_.bytes() > kMaxExternalOutputBytes) {
        valid = absl::ResourceExhaustedError(absl::StrCat(
            "its backup command printed more than ", kMaxExternalOutputBytes,
            " bytes: it is to print its backup's identifier, not the backup"));
      }
      if (!valid.ok()) {
        error =
            absl::Status(valid.code(),
                         absl::StrCat(artifact_.target(), ": ", valid.message(),
                                      "; nothing was stored"));
      }
    }
    if (!error.ok()) {
      // The identifier was refused.
    } else if (trailer_.bytes() != file_->bytes()) {
      error = absl::DataLossError(
          absl::StrCat("upload of ", artifact_.target(), ": the agent sent ",
                       trailer_.bytes(), " bytes but ", file_->bytes(),
                       " arrived; nothing was stored"));
    } else {
      error = file_->Commit(trailer_.sha256());
    }
    if (error.ok()) {
      crypto::RecordStored(*file_, &stored);
      // A volume's archive counts files and may find a DX profile's fix
      // level; a command's output does neither, whatever its agent says.
      if (artifact_.kind() == v1::ARTIFACT_VOLUME_TAR) {
        stored.set_file_count(trailer_.files());
        if (!trailer_.fix_level().empty()) {
          stored.set_fix_level(trailer_.fix_level());
        }
      }
      stored.set_external_id(external_id);
      stored.set_created_unix(parts_.clock->NowUnix());
      file_.reset();  // committed: no longer ours to remove
      error =
          parts_.board->CompleteWithArtifact(job_id_, stored, trailer_.log());
      if (!error.ok()) {
        parts_.store->Remove(stored.path()).IgnoreError();
        parts_.files->DeleteFiles(artifact_.set_id(), artifact_.target())
            .IgnoreError();
      }
    }
  }
  if (!error.ok()) return FailJob(error);
  // What the agent sent (an encrypted artifact's plaintext).
  v1::UploadResult result;
  result.set_bytes(crypto::PlainBytes(stored));
  result.set_sha256(crypto::PlainSha256(stored));
  result.set_path(stored.path());
  return result;
}

UploadSessions::UploadSessions(const UploadParts& parts) : parts_(parts) {
  parts_.board->AddObserver(this);
}

UploadSessions::~UploadSessions() { parts_.board->RemoveObserver(this); }

absl::StatusOr<UploadSessions::Attached> UploadSessions::Attach(
    const std::string& job_id, std::function<void()> cancel) {
  std::shared_ptr<UploadSession> session;
  uint64_t stream;
  std::function<void()> cancel_previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stream = next_stream_++;
    auto it = sessions_.find(job_id);
    if (it != sessions_.end()) session = it->second;
  }
  if (session == nullptr) {
    absl::StatusOr<v1::Artifact> artifact = parts_.board->BeginUpload(job_id);
    if (!artifact.ok()) return artifact.status();  // only one stream gets here
    auto file = parts_.keys->Begin(*parts_.store, *artifact);
    if (!file.ok()) {
      parts_.board->Finish(job_id, file.status());
      return file.status();
    }
    session = std::make_shared<UploadSession>(parts_, job_id, *artifact,
                                              std::move(*file));
    {
      std::lock_guard<std::mutex> lock(mu_);
      sessions_[job_id] = session;
    }
    DXLOG(INFO) << "upload of job " << job_id << " started into "
                << artifact->path();
    // A job failing before it was in the map had no session to abandon.
    if (!parts_.board->IsRunning(job_id)) {
      Abandon(job_id);
      return absl::FailedPreconditionError(
          absl::StrCat("job ", job_id, " ended as its upload began"));
    }
  }
  {
    std::lock_guard<std::mutex> lock(session->mu_);
    if (session->stream_ != 0) {
      DXLOG(INFO) << "upload of job " << job_id << " resumed at chunk "
                  << session->next_sequence_ << " ("
                  << (session->file_ ? session->file_->bytes() : 0)
                  << " bytes already stored)";
    }
    session->stream_ = stream;
    cancel_previous = std::move(session->cancel_stream_);
    session->cancel_stream_ = std::move(cancel);
  }
  if (cancel_previous) cancel_previous();
  return Attached{session, stream};
}

absl::StatusOr<v1::UploadResult> UploadSessions::Complete(
    const Attached& attached) {
  absl::StatusOr<v1::UploadResult> result =
      attached.session->Complete(attached.stream);
  if (result.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(attached.session->job_id_);
  }
  return result;
}

void UploadSessions::Detach(const std::shared_ptr<UploadSession>& session,
                            uint64_t stream) {
  std::lock_guard<std::mutex> lock(session->mu_);
  if (session->stream_ == stream) session->cancel_stream_ = nullptr;
}

void UploadSessions::Abandon(const std::string& job_id) {
  std::shared_ptr<UploadSession> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(job_id);
    if (it == sessions_.end()) return;
    session = std::move(it->second);
    sessions_.erase(it);
  }
  std::function<void()> cancel;
  {
    std::lock_guard<std::mutex> lock(session->mu_);
    session->AbandonLocked();
    cancel = std::move(session->cancel_stream_);
  }
  if (cancel) cancel();
}

}  // namespace dxbackup::scheduler
