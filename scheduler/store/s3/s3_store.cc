#include "scheduler/store/s3/s3_store.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace dxbackup::scheduler::s3 {
namespace {

constexpr int kMaxParts = 10000;

// One part's bytes, in pages of their own (mmap): allocated whole when
// first used and given back to the system when the write ends, so the
// scheduler's memory follows its uploads (two parts each) instead of the
// high-water mark of malloc's arenas.
class PartBuffer {
 public:
  explicit PartBuffer(size_t capacity) : capacity_(capacity) {}
  ~PartBuffer() {
    if (data_ != nullptr) munmap(data_, capacity_);
  }
  PartBuffer(const PartBuffer&) = delete;
  PartBuffer& operator=(const PartBuffer&) = delete;

  // Appends up to `n` bytes (what fits); returns how many.
  absl::StatusOr<size_t> Append(const char* p, size_t n) {
    if (data_ == nullptr) {
      void* mem = mmap(nullptr, capacity_, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mem == MAP_FAILED) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "cannot allocate an S3 part of ", capacity_, " bytes"));
      }
      data_ = static_cast<char*>(mem);
    }
    n = std::min(n, capacity_ - size_);
    std::memcpy(data_ + size_, p, n);
    size_ += n;
    return n;
  }
  std::string_view view() const { return {data_, size_}; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == capacity_; }
  void clear() { size_ = 0; }
  void swap(PartBuffer& other) {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

 private:
  const size_t capacity_;
  char* data_ = nullptr;
  size_t size_ = 0;
};

// One object being written: a multipart upload, or one PutObject if the
// object ends before its first part fills.
class MultipartSink : public ObjectSink {
 public:
  // `headers` go with the object's creation (its lock).
  MultipartSink(S3Client* client, std::string key, size_t part_size,
                Headers headers)
      : client_(client),
        key_(std::move(key)),
        part_size_(part_size),
        headers_(std::move(headers)),
        filling_(part_size),
        sending_(part_size) {}
  ~MultipartSink() override { Discard(); }

  absl::Status Write(const void* data, size_t size) override {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      absl::StatusOr<size_t> taken = filling_.Append(p, size);
      if (!taken.ok()) return taken.status();
      const size_t n = *taken;
      p += n;
      size -= n;
      bytes_ += n;
      if (filling_.full()) {
        if (absl::Status s = SendFilledPart(); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Publish() override {
    if (upload_id_.empty()) {
      // Smaller than one part: one request.
      if (absl::Status s = client_->PutObject(key_, filling_.view(), headers_);
          !s.ok()) {
        return RemoveWhatFailed(s);
      }
      put_whole_ = true;
    } else {
      if (!filling_.empty() || etags_.empty()) {
        if (absl::Status s = SendFilledPart(); !s.ok()) return s;
      }
      if (absl::Status s = WaitInFlight(); !s.ok()) return s;
      if (absl::Status s = client_->CompleteMultipartUpload(key_, upload_id_,
                                                            etags_, bytes_);
          !s.ok()) {
        return RemoveWhatFailed(s);
      }
      completed_ = true;
    }
    absl::StatusOr<uint64_t> size = client_->HeadObject(key_);
    if (!size.ok() || *size != bytes_) {
      absl::Status st =
          size.ok()
              ? absl::DataLossError(absl::StrCat(
                    "S3 stored ", *size, " bytes for ", client_->Describe(key_),
                    " where ", bytes_, " were sent; the object was removed"))
              : size.status();
      if (absl::Status d = client_->DeleteObject(key_); !d.ok()) {
        DXLOG(ERROR) << "could not remove the wrong object: " << d.message();
      }
      return st;
    }
    published_ = true;
    return absl::OkStatus();
  }

  void Discard() override {
    if (published_ || discarded_) return;
    discarded_ = true;
    (void)WaitInFlight();
    if (!upload_id_.empty() && !completed_) {
      if (absl::Status s = client_->AbortMultipartUpload(key_, upload_id_);
          !s.ok()) {
        DXLOG(WARNING) << "could not abort the multipart upload of "
                       << client_->Describe(key_) << ": " << s.message()
                       << " (the next start aborts it)";
      }
    }
  }

 private:
  // Hands the filled buffer to a background upload, after the one before
  // it ended (so at most two parts are held at once).
  absl::Status SendFilledPart() {
    if (absl::Status s = WaitInFlight(); !s.ok()) return s;
    if (upload_id_.empty()) {
      absl::StatusOr<std::string> id =
          client_->CreateMultipartUpload(key_, headers_);
      if (!id.ok()) return id.status();
      upload_id_ = *id;
    }
    if (static_cast<int>(etags_.size()) >= kMaxParts) {
      return absl::OutOfRangeError(absl::StrCat(
          client_->Describe(key_), " needs more than ", kMaxParts, " parts of ",
          part_size_ >> 20, " MiB; raise the store's part_size_mib"));
    }
    sending_.swap(filling_);
    filling_.clear();
    const int part_number = static_cast<int>(etags_.size()) + 1;
    etags_.emplace_back();
    in_flight_ = std::async(std::launch::async, [this, part_number] {
      absl::StatusOr<std::string> etag =
          client_->UploadPart(key_, upload_id_, part_number, sending_.view());
      if (!etag.ok()) return etag.status();
      etags_[part_number - 1] = *etag;
      return absl::OkStatus();
    });
    return absl::OkStatus();
  }

  // The first part upload that failed fails every later call (the part's
  // buffer is gone; nothing may be sent after it).
  absl::Status WaitInFlight() {
    if (!failed_.ok() || !in_flight_.valid()) return failed_;
    failed_ = in_flight_.get();
    return failed_;
  }

  // After a PutObject or CompleteMultipartUpload failed for good: an object
  // the server may still have made (of the wrong size: S3Client accepts a
  // whole one) must not stay visible.
  absl::Status RemoveWhatFailed(const absl::Status& failure) {
    if (client_->HeadObject(key_).ok()) {
      if (absl::Status d = client_->DeleteObject(key_); !d.ok()) {
        DXLOG(ERROR) << "could not remove the object a failed write left at "
                     << client_->Describe(key_) << ": " << d.message();
      }
    }
    return failure;
  }

  S3Client* const client_;
  const std::string key_;
  const size_t part_size_;
  const Headers headers_;
  PartBuffer filling_;  // the part being filled
  PartBuffer sending_;  // the part being uploaded (by in_flight_)
  std::future<absl::Status> in_flight_;
  absl::Status failed_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  uint64_t bytes_ = 0;
  bool put_whole_ = false;
  bool completed_ = false;
  bool published_ = false;
  bool discarded_ = false;
};

// Sequential reads through ranged GETs.
class RangeReader : public ArtifactReader {
 public:
  RangeReader(S3Client* client, std::string key, uint64_t size, size_t chunk)
      : client_(client), key_(std::move(key)), size_(size), chunk_(chunk) {}

  absl::StatusOr<size_t> Read(void* buffer, size_t size) override {
    if (used_ == buffer_.size()) {
      if (offset_ >= size_) return 0;
      const uint64_t want = std::min<uint64_t>(chunk_, size_ - offset_);
      absl::StatusOr<std::string> got = client_->GetRange(key_, offset_, want);
      if (!got.ok()) return got.status();
      if (got->size() != want) {
        return absl::DataLossError(absl::StrCat(
            "S3 returned ", got->size(), " bytes of ", client_->Describe(key_),
            " at offset ", offset_, " where ", want, " were asked for"));
      }
      buffer_ = std::move(*got);
      used_ = 0;
      offset_ += want;
    }
    const size_t n = std::min(size, buffer_.size() - used_);
    std::memcpy(buffer, buffer_.data() + used_, n);
    used_ += n;
    return n;
  }

 private:
  S3Client* const client_;
  const std::string key_;
  const uint64_t size_;
  const size_t chunk_;
  uint64_t offset_ = 0;
  std::string buffer_;
  size_t used_ = 0;
};

}  // namespace

S3Store::S3Store(S3StoreOptions options)
    : options_(std::move(options)),
      key_prefix_(options_.prefix.empty() ? "" : options_.prefix + "/"),
      client_(options_.location, options_.retry) {
  client_.set_list_page_size(options_.list_page_size);
}

absl::StatusOr<std::unique_ptr<S3Store>> S3Store::Open(S3StoreOptions options) {
  if (options.part_size < (5u << 20)) {
    return absl::InvalidArgumentError(
        "the S3 store's part size must be at least 5 MiB (S3's minimum)");
  }
  if (!options.lock_mode.empty() && options.lock_mode != "GOVERNANCE" &&
      options.lock_mode != "COMPLIANCE") {
    return absl::InvalidArgumentError(
        "the S3 store's Object Lock mode is GOVERNANCE or COMPLIANCE");
  }
  std::unique_ptr<S3Store> store(new S3Store(std::move(options)));
  if (absl::Status s = store->client_.CheckBucket(); !s.ok()) {
    return absl::Status(
        s.code(), absl::StrCat("the S3 store cannot be used: ", s.message()));
  }
  if (!store->options_.lock_mode.empty()) {
    absl::StatusOr<bool> locked = store->client_.ObjectLockEnabled();
    if (!locked.ok()) return locked.status();
    if (!*locked) {
      return absl::FailedPreconditionError(absl::StrCat(
          "bucket ", store->options_.location.bucket, " at ",
          store->options_.location.endpoint,
          " has no Object Lock, but the store's object_lock asks for it: "
          "create the bucket with Object Lock enabled, or remove "
          "object_lock"));
    }
  }
  return store;
}

std::string S3Store::ObjectKey(const std::string& key) const {
  return key_prefix_ + key;
}

std::string S3Store::StoreKey(const std::string& object_key) const {
  return object_key.substr(key_prefix_.size());
}

absl::StatusOr<std::vector<std::string>> S3Store::RemoveUnfinished(
    const std::string& prefix) {
  const std::string under = key_prefix_ + prefix;
  absl::StatusOr<std::vector<ListedUpload>> uploads =
      client_.ListMultipartUploads(under);
  if (!uploads.ok()) return uploads.status();
  std::vector<std::string> removed;
  for (const ListedUpload& u : *uploads) {
    if (!absl::StartsWith(u.key, under)) continue;  // the server's bug
    if (absl::Status s = client_.AbortMultipartUpload(u.key, u.upload_id);
        !s.ok()) {
      return s;
    }
    removed.push_back(StoreKey(u.key));
  }
  return removed;
}

int64_t S3Store::LockUntil(int64_t keep_until_unix) const {
  if (options_.lock_mode.empty()) return 0;
  const int64_t now = options_.now_unix ? options_.now_unix()
                                        : absl::ToUnixSeconds(absl::Now());
  return std::max(keep_until_unix, now) + options_.lock_margin_seconds;
}

absl::StatusOr<std::unique_ptr<ObjectSink>> S3Store::StartObject(
    const std::string& key, int64_t locked_until_unix) {
  Headers headers;
  if (locked_until_unix > 0) {
    headers.push_back("x-amz-object-lock-mode: " + options_.lock_mode);
    headers.push_back(
        absl::StrCat("x-amz-object-lock-retain-until-date: ",
                     absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                      absl::FromUnixSeconds(locked_until_unix),
                                      absl::UTCTimeZone())));
  }
  return std::unique_ptr<ObjectSink>(new MultipartSink(
      &client_, ObjectKey(key), options_.part_size, std::move(headers)));
}

absl::StatusOr<std::unique_ptr<ArtifactReader>> S3Store::OpenObject(
    const std::string& key) {
  absl::StatusOr<uint64_t> size = client_.HeadObject(ObjectKey(key));
  if (!size.ok()) return size.status();
  return std::unique_ptr<ArtifactReader>(
      new RangeReader(&client_, ObjectKey(key), *size, options_.read_chunk));
}

absl::StatusOr<uint64_t> S3Store::StatObject(const std::string& key) {
  return client_.HeadObject(ObjectKey(key));
}

absl::Status S3Store::RemoveObject(const std::string& key) {
  return client_.DeleteObject(ObjectKey(key));
}

absl::StatusOr<std::vector<StoredObject>> S3Store::ListObjects(
    const std::string& prefix) {
  absl::StatusOr<std::vector<ListedObject>> listed =
      client_.ListObjects(key_prefix_ + prefix);
  if (!listed.ok()) return listed.status();
  std::vector<StoredObject> objects;
  objects.reserve(listed->size());
  for (ListedObject& o : *listed) {
    objects.push_back(StoredObject{StoreKey(o.key), o.size});
  }
  return objects;
}

}  // namespace dxbackup::scheduler::s3
