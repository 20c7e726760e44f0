#include "scheduler/store/artifact_store.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/resource_names.h"

namespace dxbackup::scheduler {
namespace {

constexpr size_t kReadChunkBytes = 1 << 20;

std::string NamespaceOf(const std::string& key) {
  return key.substr(0, key.find('/'));
}

absl::Status CheckKey(const std::string& key) {
  return common::CheckNormalRelativePath("artifact path", key);
}

}  // namespace

PendingArtifact::PendingArtifact(std::string key,
                                 std::unique_ptr<ObjectSink> sink,
                                 NamespaceQuota* quota)
    : key_(std::move(key)),
      namespace_(NamespaceOf(key_)),
      sink_(std::move(sink)),
      quota_(quota) {}

PendingArtifact::~PendingArtifact() { Abandon(); }

void PendingArtifact::Abandon() {
  if (done_) return;
  done_ = true;
  sink_->Discard();
  if (quota_ != nullptr) {
    quota_->Settle(namespace_, bytes_, /*committed=*/false);
  }
}

absl::Status PendingArtifact::Append(const void* data, size_t size) {
  if (done_) return absl::FailedPreconditionError("artifact already closed");
  if (quota_ != nullptr) {
    if (absl::Status s = quota_->Reserve(namespace_, size); !s.ok()) return s;
  }
  digest_.Update(data, size);
  bytes_ += size;  // reserved: Settle returns it whatever happens
  return sink_->Write(data, size);
}

absl::Status PendingArtifact::Commit(const std::string& expected_sha256) {
  if (done_) return absl::FailedPreconditionError("artifact already closed");
  sha256_ = digest_.HexDigest();
  if (!expected_sha256.empty() && expected_sha256 != sha256_) {
    Abandon();
    return absl::DataLossError(absl::StrCat(
        "digest mismatch for ", key_, ": sender says ", expected_sha256,
        ", received bytes hash to ", sha256_,
        "; the stream was damaged in transit and nothing was stored"));
  }
  if (absl::Status s = sink_->Publish(); !s.ok()) {
    Abandon();
    return s;
  }
  done_ = true;
  if (quota_ != nullptr) {
    quota_->Settle(namespace_, bytes_, /*committed=*/true);
  }
  return absl::OkStatus();
}

uint64_t PendingArtifact::stored_bytes() const {
  const StoredForm* form = sink_->stored_form();
  return form == nullptr ? bytes_ : form->bytes;
}

const std::string& PendingArtifact::stored_sha256() const {
  const StoredForm* form = sink_->stored_form();
  return form == nullptr ? sha256_ : form->sha256;
}

std::string PendingArtifact::encrypted_for() const {
  const StoredForm* form = sink_->stored_form();
  return form == nullptr ? "" : form->encrypted_for;
}

absl::Status ForEachChunk(
    ArtifactReader& reader,
    const std::function<absl::Status(const char* data, size_t size)>& consume) {
  std::vector<char> buffer(kReadChunkBytes);
  for (;;) {
    absl::StatusOr<size_t> n = reader.Read(buffer.data(), buffer.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return absl::OkStatus();
    if (absl::Status s = consume(buffer.data(), *n); !s.ok()) return s;
  }
}

std::string ArtifactStore::RelativePath(const std::string& namespace_,
                                        const std::string& release,
                                        const std::string& set_id,
                                        const std::string& file_name) {
  return absl::StrCat(namespace_, "/", release, "/", set_id, "/", file_name);
}

absl::StatusOr<std::unique_ptr<PendingArtifact>> ArtifactStore::Begin(
    const std::string& key, int64_t keep_until_unix) {
  return BeginWithLock(key, LockUntil(keep_until_unix));
}

absl::StatusOr<std::unique_ptr<PendingArtifact>>
ArtifactStore::BeginLockedUntil(const std::string& key,
                                int64_t locked_until_unix) {
  return BeginWithLock(key, LockUntil(0) == 0 ? 0 : locked_until_unix);
}

absl::StatusOr<std::unique_ptr<PendingArtifact>> ArtifactStore::BeginWithLock(
    const std::string& key, int64_t locked_until) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  absl::StatusOr<uint64_t> existing = StatObject(key);
  if (existing.ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("artifact ", key, " already stored"));
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  absl::StatusOr<std::unique_ptr<ObjectSink>> sink =
      StartObject(key, locked_until);
  if (!sink.ok()) return sink.status();
  if (quota_.enabled()) {
    // Count again what the namespace keeps: retention may have removed
    // sets since. A listing that fails (a set removed while it was walked)
    // keeps the count from before.
    const std::string ns = NamespaceOf(key);
    absl::StatusOr<std::vector<StoredObject>> kept = ListObjects(ns + "/");
    if (kept.ok()) {
      uint64_t total = 0;
      for (const StoredObject& object : *kept) total += object.bytes;
      quota_.Recount(ns, total);
    }
  }
  auto pending =
      std::make_unique<PendingArtifact>(key, std::move(*sink), &quota_);
  pending->set_locked_until_unix(locked_until);
  return pending;
}

absl::StatusOr<std::unique_ptr<ArtifactReader>> ArtifactStore::Open(
    const std::string& key) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  return OpenObject(key);
}

absl::StatusOr<uint64_t> ArtifactStore::Stat(const std::string& key) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  return StatObject(key);
}

absl::Status ArtifactStore::Remove(const std::string& key) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  return RemoveObject(key);
}

absl::StatusOr<std::vector<StoredObject>> ArtifactStore::List(
    const std::string& prefix) {
  absl::string_view within = prefix;
  if (!within.empty() && within.back() == '/') within.remove_suffix(1);
  if (!prefix.empty()) {
    if (absl::Status s = CheckKey(std::string(within)); !s.ok()) return s;
  }
  return ListObjects(prefix);
}

}  // namespace dxbackup::scheduler
