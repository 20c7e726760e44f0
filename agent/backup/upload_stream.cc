#include "agent/backup/upload_stream.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/backoff.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/utf8_escape.h"

namespace dxbackup::agent {
namespace {

// Worth another stream: the connection failed, not the scheduler's verdict.
bool Transient(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
      return true;
    default:
      return false;
  }
}

}  // namespace

UploadStream::UploadStream(StubFactory new_stub, std::string job_id,
                           Options options, ProgressFn on_progress)
    : new_stub_(std::move(new_stub)),
      job_id_(std::move(job_id)),
      options_(options),
      on_progress_(std::move(on_progress)),
      started_(options_.time->Monotonic()) {
  buffer_.reserve(kChunkBytes);
  OpenAttempt();
  watchdog_ = std::thread([this] { Watch(); });
}

UploadStream::~UploadStream() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  watchdog_.join();
  if (attempt_ != nullptr) {
    attempt_->context.TryCancel();
    CloseAttempt();
  }
}

void UploadStream::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  if (attempt_ != nullptr) attempt_->context.TryCancel();
  cv_.notify_all();
}

void UploadStream::OpenAttempt() {
  auto attempt = std::make_unique<Attempt>();
  attempt->stub = new_stub_();
  attempt->stream = attempt->stub->Upload(&attempt->context);
  Attempt* raw = attempt.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    attempt_ = std::move(attempt);
    reader_done_ = false;
    stall_cut_ = false;
    last_ack_ = options_.time->Monotonic();
    if (cancelled_) raw->context.TryCancel();
  }
  raw->reader = std::thread([this, raw] { ReadReplies(raw); });
}

void UploadStream::ReadReplies(Attempt* attempt) {
  v1::UploadReply reply;
  while (attempt->stream->Read(&reply)) {
    std::lock_guard<std::mutex> lock(mu_);
    if (reply.has_result()) result_ = reply.result();
    if (reply.next_sequence() > acknowledged_) {
      acknowledged_ = reply.next_sequence();
      last_ack_ = options_.time->Monotonic();
    }
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  reader_done_ = true;
  cv_.notify_all();
}

void UploadStream::Watch() {
  const auto tick = std::min<std::chrono::milliseconds>(
      std::chrono::seconds(1),
      options_.stall_timeout / 4 + std::chrono::milliseconds(1));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    options_.time->WaitFor(lock, cv_, tick, [this] { return stopping_; });
    if (stopping_ || reader_done_ || stall_cut_ || attempt_ == nullptr) {
      continue;
    }
    const bool outstanding =
        !kept_.empty() && kept_.back().chunk.sequence() >= acknowledged_;
    if (outstanding &&
        options_.time->Monotonic() - last_ack_ > options_.stall_timeout) {
      DXLOG(WARNING) << "upload of job " << job_id_
                     << ": no acknowledgement for "
                     << options_.stall_timeout.count()
                     << " ms; cutting the connection to retry";
      stall_cut_ = true;
      ++stall_cuts_;
      attempt_->context.TryCancel();
    }
  }
}

void UploadStream::DropAcknowledgedLocked() {
  while (!kept_.empty() && kept_.front().chunk.sequence() < acknowledged_) {
    kept_bytes_ -= kept_.front().bytes;
    kept_entry_bytes_ -= kept_.front().entry_bytes;
    kept_.pop_front();
  }
}

grpc::Status UploadStream::CloseAttempt() {
  Attempt* attempt;
  bool cut;
  {
    std::lock_guard<std::mutex> lock(mu_);
    attempt = attempt_.get();
  }
  if (attempt == nullptr) return grpc::Status::OK;
  // A failed write ends the call; the reader sees it and stops.
  attempt->reader.join();
  grpc::Status st = attempt->stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    cut = stall_cut_;
    attempt_.reset();
  }
  if (cut) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "no acknowledgement within the stall timeout");
  }
  return st;
}

absl::Status UploadStream::Resume() {
  common::Backoff backoff(options_.backoff_initial, options_.backoff_max);
  int failures = 0;
  uint64_t acknowledged_before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    acknowledged_before = acknowledged_;
  }
  for (;;) {
    // The call is over already: a write failed, the reader saw its end, or
    // it was cancelled.
    grpc::Status st = CloseAttempt();
    std::unique_lock<std::mutex> lock(mu_);
    if (cancelled_) {
      return absl::CancelledError(
          absl::StrCat("upload of job ", job_id_, " cancelled"));
    }
    if (result_.has_value()) return absl::OkStatus();  // it got through
    if (!Transient(st.error_code())) {
      return absl::Status(common::FromGrpcStatus(st).code(),
                          absl::StrCat("scheduler refused upload of job ",
                                       job_id_, ": ", st.error_message()));
    }
    if (acknowledged_ > acknowledged_before) {  // progress since last break
      failures = 0;
      backoff.Reset();
      acknowledged_before = acknowledged_;
    }
    if (++failures > options_.max_attempts) {
      return absl::UnavailableError(absl::StrCat(
          "upload of job ", job_id_, " gave up after ", failures - 1,
          " attempts to resume without progress; last error: ",
          st.error_message()));
    }
    const auto delay = backoff.Next();
    DXLOG(WARNING) << "upload of job " << job_id_ << " broke ("
                   << st.error_message() << "); resuming from chunk "
                   << acknowledged_ << " in " << delay.count() << " ms";
    if (options_.time->WaitFor(lock, cv_, delay,
                               [this] { return cancelled_; })) {
      continue;
    }
    lock.unlock();
    OpenAttempt();
    ++resumes_;
    bool sent = true;
    {
      // kept_ is changed only by this thread; the lock guards the readers.
      std::lock_guard<std::mutex> keep(mu_);
      DropAcknowledgedLocked();
    }
    for (const Sent& s : kept_) {
      const bool written =
          s.entries.empty()
              ? attempt_->stream->Write(s.chunk)
              : attempt_->stream->Write(UnpackEntries(s.chunk, s.entries));
      if (!written) {
        sent = false;
        break;
      }
    }
    if (sent) return absl::OkStatus();
  }
}

absl::Status UploadStream::Write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const size_t take = std::min(size, kChunkBytes - buffer_.size());
    buffer_.append(p, take);
    digest_.Update(p, take);
    p += take;
    size -= take;
    if (buffer_.size() == kChunkBytes) {
      absl::Status s = SendBuffered(nullptr);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status UploadStream::OnEntry(v1::FileEntry entry) {
  entries_bytes_ += entry.path().size() + entry.link().size() + 32;
  entries_.push_back(std::move(entry));
  // Many small files compress into few chunks: send the index on its own
  // rather than hold it all (or overflow a message).
  if (entries_.size() >= kMaxPendingEntries ||
      entries_bytes_ >= kMaxPendingEntryBytes) {
    return SendBuffered(nullptr);
  }
  return absl::OkStatus();
}

void UploadStream::Throttle() {
  if (options_.limit_bytes_per_second == 0) return;
  const auto due =
      started_ + std::chrono::microseconds(bytes_ * 1000000 /
                                           options_.limit_bytes_per_second);
  options_.time->SleepUntil(due);
}

absl::Status UploadStream::SendBuffered(const v1::UploadTrailer* trailer) {
  v1::UploadChunk chunk;
  chunk.set_job_id(job_id_);
  chunk.set_sequence(sequence_++);
  TakeChunkData(&buffer_, &chunk);
  for (v1::FileEntry& e : entries_) *chunk.add_entries() = std::move(e);
  entries_.clear();
  entries_bytes_ = 0;
  if (trailer != nullptr) *chunk.mutable_trailer() = *trailer;
  bytes_ += chunk.data().size();
  Throttle();
  absl::Status s = Push(std::move(chunk));
  if (!s.ok()) return s;
  if (on_progress_) on_progress_(bytes_);
  return absl::OkStatus();
}

void TakeChunkData(std::string* buffer, v1::UploadChunk* chunk) {
  if (buffer->size() >= kChunkBytes / 2) {
    chunk->set_data(std::move(*buffer));  // no copy of a full chunk
    buffer->clear();
    buffer->reserve(kChunkBytes);
  } else {
    chunk->set_data(*buffer);
    buffer->clear();
  }
}

void PackEntries(v1::UploadChunk* chunk, std::string* packed) {
  packed->clear();
  if (chunk->entries_size() == 0) return;
  v1::UploadChunk only_entries;
  only_entries.mutable_entries()->Swap(chunk->mutable_entries());
  only_entries.SerializeToString(packed);
  packed->shrink_to_fit();
}

v1::UploadChunk UnpackEntries(const v1::UploadChunk& chunk,
                              const std::string& packed) {
  v1::UploadChunk whole = chunk;
  whole.MergeFromString(packed);  // our own serialization: it parses
  return whole;
}

absl::Status UploadStream::Push(v1::UploadChunk chunk) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) {
      return absl::CancelledError(
          absl::StrCat("upload of job ", job_id_, " cancelled"));
    }
    kept_.push_back(Sent{std::move(chunk), std::string(), 0, 0});
  }
  // kept_ is changed only by this thread; the watchdog reads sequences.
  Sent& sent = kept_.back();
  const bool written = attempt_->stream->Write(sent.chunk);
  PackEntries(&sent.chunk, &sent.entries);
  sent.entry_bytes = sent.entries.capacity();
  sent.bytes = sent.chunk.SpaceUsedLong() + sent.entry_bytes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    kept_bytes_ += sent.bytes;
    kept_entry_bytes_ += sent.entry_bytes;
    peak_kept_entry_bytes_ =
        std::max(peak_kept_entry_bytes_, kept_entry_bytes_);
  }
  if (!written) {
    absl::Status s = Resume();  // sends kept_ again, this chunk included
    if (!s.ok()) return s;
  }
  // Wait until the window has room; a break meanwhile resumes.
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    DropAcknowledgedLocked();
    if ((kept_bytes_ <= options_.window_bytes &&
         kept_entry_bytes_ <= options_.window_entry_bytes) ||
        result_.has_value()) {
      return absl::OkStatus();
    }
    if (reader_done_ || cancelled_) {
      lock.unlock();
      absl::Status s = Resume();
      if (!s.ok()) return s;
      lock.lock();
      continue;
    }
    cv_.wait(lock);
  }
}

absl::StatusOr<v1::UploadResult> UploadStream::Finish(
    uint64_t files, const std::string& fix_level,
    const std::string& stdout_tail, const std::string& log) {
  v1::UploadTrailer trailer;
  trailer.set_bytes(bytes_ + buffer_.size());
  trailer.set_files(files);
  trailer.set_sha256(digest_.HexDigest());
  trailer.set_fix_level(fix_level);
  // Protobuf strings must be UTF-8: a binary dump's last bytes, or stderr
  // in another encoding, are escaped (an external identifier is checked
  // to be printable ASCII by the scheduler all the same).
  trailer.set_stdout_tail(common::EscapeToUtf8(stdout_tail));
  trailer.set_log(common::EscapeToUtf8(
      log.size() > kMaxTrailerLogBytes
          ? std::string_view(log).substr(log.size() - kMaxTrailerLogBytes)
          : std::string_view(log)));
  absl::Status s = SendBuffered(&trailer);
  if (!s.ok()) return s;
  for (;;) {
    if (attempt_ != nullptr) {
      attempt_->stream->WritesDone();
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return reader_done_; });
    }
    std::optional<v1::UploadResult> result;
    {
      std::lock_guard<std::mutex> lock(mu_);
      result = result_;
    }
    if (result.has_value()) {
      grpc::Status st = CloseAttempt();
      if (!st.ok()) {
        DXLOG(WARNING) << "upload of job " << job_id_
                       << " stored, then the stream ended with: "
                       << st.error_message();
      }
      return *result;
    }
    s = Resume();
    if (!s.ok()) return s;
  }
}

}  // namespace dxbackup::agent
