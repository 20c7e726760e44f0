// UploadSession is the scheduler's side of one backup job's upload, apart
// from gRPC: it checks and writes chunks into the store's pending artifact,
// records their index rows (in batches), and on the trailer commits the
// artifact and ends the job. It outlives any one Upload stream, so that an
// agent whose stream broke resumes where the scheduler stopped instead of
// starting over: chunks below next_sequence() are already written, and a
// resumed stream may send them again (they are skipped).
//
// UploadSessions holds the session of every job that has started
// uploading. A session ends with its job: committed by Complete(), or
// abandoned — partial file removed, index rows deleted — when the job
// fails for any reason (an error here, a dead agent, a stall), before the
// job's end is published.
//
//   UploadSessions sessions(parts);               // one per scheduler
//   auto s = sessions.Attach(job_id, cancel_fn);  // per stream
//   s->session->Accept(s->stream, chunk) ...      // per chunk
//   sessions.Complete(*s)                         // once input ends
//
// Thread-safe. A stream attaching to a session detaches the one before it
// (its cancel function is called, and its next call is refused).
#ifndef DXBACKUP_SCHEDULER_AGENTS_UPLOAD_SESSION_H_
#define DXBACKUP_SCHEDULER_AGENTS_UPLOAD_SESSION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "dxbackup/v1/agent.pb.h"
#include "scheduler/agents/index_writer.h"
#include "scheduler/catalog/file_index.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/jobs/job_observer.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

// Largest data payload an upload chunk may carry.
constexpr size_t kMaxChunkBytes = 1 << 20;
// Index entries written to the catalog in one transaction, at most. The
// first batch of an upload is kFirstIndexBatchEntries and each next one
// twice the last, up to the most: the catalog starts writing while the
// agent still walks (with 16,384 from the start, an incremental of 20,000
// unchanged files wrote nearly all its rows after the walk had ended),
// and a long upload still writes in large batches.
constexpr int kIndexBatchEntries = 16384;
constexpr int kFirstIndexBatchEntries = 1024;

// What upload sessions use; all must outlive them.
struct UploadParts {
  FileIndex* files;             // the uploaded entries' index rows
  ArtifactStore* store;         // the artifacts written (pending, committed)
  const crypto::KeyRing* keys;  // what is encrypted, for whom
  JobBoard* board;              // the jobs uploading: begun, ended, failed
  const common::Clock* clock;   // the stored artifacts' creation times
};

class UploadSession {
 public:
  UploadSession(const UploadParts& parts, std::string job_id,
                v1::Artifact artifact, std::unique_ptr<PendingArtifact> file);
  ~UploadSession();  // abandons what was not committed
  UploadSession(const UploadSession&) = delete;
  UploadSession& operator=(const UploadSession&) = delete;

  // Takes one chunk of stream `stream`. A chunk below next_sequence() is a
  // resent one and is skipped. An error means the upload cannot go on: the
  // session is abandoned and the job failed (unless `stream` was replaced
  // by a newer stream, which goes on).
  absl::Status Accept(uint64_t stream, const v1::UploadChunk& chunk);
  // Called once stream `stream`'s input ended with the trailer received:
  // commits the artifact if its size and digest match the trailer, records
  // it and ends the job. Any error fails the job.
  absl::StatusOr<v1::UploadResult> Complete(uint64_t stream);

  uint64_t next_sequence() const;
  bool has_trailer() const;
  uint64_t bytes() const;

 private:
  friend class UploadSessions;

  // Fails the job with `s` (outside mu_: the job's end abandons us).
  absl::Status FailJob(const absl::Status& s);
  // Removes the partial file and the index rows; mu_ held.
  void AbandonLocked();

  const UploadParts parts_;
  const std::string job_id_;
  const v1::Artifact artifact_;

  mutable std::mutex mu_;
  std::unique_ptr<PendingArtifact> file_;  // nullptr once committed/abandoned
  uint64_t stream_ = 0;                    // the attached stream
  std::function<void()> cancel_stream_;
  uint64_t next_sequence_ = 0;
  v1::UploadTrailer trailer_;
  bool have_trailer_ = false;
  // Index entries of accepted chunks not yet in the catalog: handed to
  // index_ in batches of batch_entries_ (the last with the trailer's
  // chunk), one transaction each. A batch touches each index page once
  // however many of its rows land there; a transaction per chunk wrote the
  // same pages again and again. Memory: this batch and the one index_
  // writes, about 8 MB per upload of many small files at most (cleared
  // entries are kept for reuse until the session ends).
  google::protobuf::RepeatedPtrField<v1::FileEntry> pending_entries_;
  int batch_entries_ = kFirstIndexBatchEntries;  // doubles up to the most
  IndexWriter index_;
};

class UploadSessions : public JobObserver {
 public:
  // Observes `parts.board` from construction to destruction: a failing
  // job's session is abandoned.
  explicit UploadSessions(const UploadParts& parts);
  ~UploadSessions() override;

  void OnJobChanged(JobChange, const v1::Job&) override {}
  void OnJobFailing(const std::string& job_id) override { Abandon(job_id); }

  struct Attached {
    std::shared_ptr<UploadSession> session;
    uint64_t stream;  // pass to the session's calls
  };
  // The session of `job_id`, started on its first stream (claiming the
  // job's upload and creating its partial file). `cancel` ends this
  // stream if a newer one attaches. NotFound / FailedPrecondition when the
  // job is unknown, ended or no backup; other errors fail the job.
  absl::StatusOr<Attached> Attach(const std::string& job_id,
                                  std::function<void()> cancel);
  // Completes the session (see UploadSession::Complete) and forgets it.
  absl::StatusOr<v1::UploadResult> Complete(const Attached& attached);
  // Stream `stream` is gone; its cancel function is forgotten.
  void Detach(const std::shared_ptr<UploadSession>& session, uint64_t stream);

 private:
  // Abandons and forgets the session of `job_id`, if any.
  void Abandon(const std::string& job_id);

  const UploadParts parts_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<UploadSession>> sessions_;
  uint64_t next_stream_ = 1;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_AGENTS_UPLOAD_SESSION_H_
