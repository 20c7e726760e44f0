#include "scheduler/sets/file_lists.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/zstd_sink.h"
#include "scheduler/store/artifact_pipe.h"
#include "scheduler/store/zstd_reader.h"

namespace dxbackup::scheduler {
namespace {

// Rows read from the catalog at a time while a list is written.
constexpr int kPageEntries = 10000;
// zstd's level for lists: paths compress well at any level, and 3 costs
// about a tenth of the catalog's reading.
constexpr int kListZstdLevel = 3;

// An ArtifactReader as protobuf's input stream; its first error is kept.
class ReaderStream : public google::protobuf::io::CopyingInputStream {
 public:
  explicit ReaderStream(ArtifactReader* reader) : reader_(reader) {}
  int Read(void* buffer, int size) override {
    absl::StatusOr<size_t> n = reader_->Read(buffer, static_cast<size_t>(size));
    if (!n.ok()) {
      status_ = n.status();
      return -1;
    }
    return static_cast<int>(*n);
  }
  const absl::Status& status() const { return status_; }

 private:
  ArtifactReader* reader_;
  absl::Status status_;
};

std::string Describe(const v1::Artifact& artifact) {
  return absl::StrCat("the file index of ", artifact.target(), " in set ",
                      artifact.set_id());
}

absl::Status Prefixed(const std::string& what, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

}  // namespace

std::string FileListPath(const v1::Artifact& artifact) {
  absl::string_view path = artifact.path();
  const bool sealed = absl::ConsumeSuffix(&path, crypto::kEncryptedSuffix);
  return absl::StrCat(path, ".files.zst",
                      sealed ? crypto::kEncryptedSuffix : "");
}

absl::StatusOr<bool> FileLists::Named(const std::string& set_id,
                                      const std::string& path) const {
  absl::StatusOr<std::vector<v1::Artifact>> artifacts =
      sets_->ListArtifacts(set_id);
  if (!artifacts.ok()) return artifacts.status();
  for (const v1::Artifact& a : *artifacts) {
    if (a.file_list().path() == path) return true;
  }
  return false;
}

absl::Status FileLists::Move(const v1::Artifact& artifact) {
  const std::string what = Describe(artifact);
  v1::Artifact planned;
  planned.set_path(FileListPath(artifact));
  // Locked (by a locking store) for as long as the artifact still is.
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  planned.set_locked_until_unix(
      artifact.locked_until_unix() > now ? artifact.locked_until_unix() : 0);
  auto pending = keys_->Begin(*store_, planned, /*exact_lock=*/true);
  if (pending.status().code() == absl::StatusCode::kAlreadyExists) {
    // A list an earlier move wrote but could not record, unless a row
    // names it after all.
    absl::StatusOr<bool> named = Named(artifact.set_id(), planned.path());
    if (!named.ok()) return Prefixed(what, named.status());
    if (*named) {
      return absl::AlreadyExistsError(absl::StrCat(
          what, ": ", planned.path(), " is already recorded as a list"));
    }
    if (absl::Status removed = store_->Remove(planned.path()); !removed.ok()) {
      return Prefixed(what, removed);
    }
    pending = keys_->Begin(*store_, planned, /*exact_lock=*/true);
  }
  if (!pending.ok() &&
      absl::EndsWith(planned.path(), crypto::kEncryptedSuffix) &&
      pending.status().code() == absl::StatusCode::kFailedPrecondition) {
    return absl::FailedPreconditionError(absl::StrCat(
        what,
        " stays in the catalog: its list would be sealed as its "
        "artifact is, and no encryption key covers the namespace now (put "
        "its key back in encryption.keys to move it)"));
  }
  if (!pending.ok()) return Prefixed(what, pending.status());
  PendingArtifact& out = **pending;

  PendingArtifactSink sink(&out);
  common::ZstdSink zstd(&sink, kListZstdLevel, /*workers=*/0);
  uint64_t entries = 0;
  std::string after, buffer;
  for (;;) {
    absl::StatusOr<std::vector<v1::FileEntry>> page = files_->FilesAfter(
        artifact.set_id(), artifact.target(), after, kPageEntries);
    if (!page.ok()) return Prefixed(what, page.status());
    if (page->empty()) break;
    buffer.clear();
    {
      // One coded stream per page: one per entry would make the string
      // stream zero its whole spare capacity for each.
      google::protobuf::io::StringOutputStream encoded(&buffer);
      google::protobuf::io::CodedOutputStream coded(&encoded);
      for (const v1::FileEntry& entry : *page) {
        google::protobuf::util::SerializeDelimitedToCodedStream(entry, &coded);
      }
    }
    if (absl::Status s = zstd.Write(buffer.data(), buffer.size()); !s.ok()) {
      return Prefixed(what, s);
    }
    entries += page->size();
    after = page->back().path();
  }
  absl::Status s = zstd.Finish();
  if (s.ok()) s = out.Commit("");
  if (!s.ok()) return Prefixed(what, s);

  v1::StoredFileList list;
  list.set_path(planned.path());
  list.set_entries(entries);
  list.set_bytes(out.stored_bytes());
  list.set_sha256(out.stored_sha256());
  list.set_encrypted_for(out.encrypted_for());
  s = files_->MoveFilesToStore(artifact.set_id(), artifact.target(), list,
                               out.locked_until_unix());
  if (!s.ok()) {
    // The rows stay, unless the commit's answer was lost after all: then
    // the list is what the catalog names. Unsure, it stays for the next
    // start's reconciliation.
    absl::StatusOr<bool> named = Named(artifact.set_id(), planned.path());
    if (named.ok() && !*named) store_->Remove(planned.path()).IgnoreError();
    return Prefixed(what, s);
  }
  return absl::OkStatus();
}

absl::Status FileLists::ForEach(
    const v1::Artifact& artifact, const std::vector<crypto::Identity>& given,
    const std::function<bool(v1::FileEntry&)>& visit) const {
  const std::string what = Describe(artifact);
  const v1::StoredFileList& list = artifact.file_list();
  v1::Artifact stored;  // the list, as KeyRing reads artifacts
  stored.set_path(list.path());
  stored.set_encrypted_for(list.encrypted_for());
  if (absl::Status opens = keys_->CheckOpens(*store_, stored, given);
      !opens.ok()) {
    return Prefixed(what, opens);
  }
  auto opened = keys_->OpenPlain(*store_, stored, given);
  if (!opened.ok()) return Prefixed(what, opened.status());
  ZstdReader plain(opened->get(), list.path());
  ReaderStream reader(&plain);
  google::protobuf::io::CopyingInputStreamAdaptor input(&reader);
  uint64_t seen = 0;
  for (;;) {
    v1::FileEntry entry;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(
            &entry, &input, &clean_eof)) {
      if (!reader.status().ok()) return Prefixed(what, reader.status());
      if (clean_eof) break;
      return absl::DataLossError(absl::StrCat(
          what, ": entry ", seen + 1, " of ", list.path(),
          " does not parse; the list is damaged. The set's artifacts are "
          "separate objects (`dxbackup verify` checks them), and `tar -tv` "
          "of the artifact lists its entries"));
    }
    ++seen;
    if (!visit(entry)) return absl::OkStatus();
  }
  if (seen != list.entries()) {
    return absl::DataLossError(
        absl::StrCat(what, ": ", list.path(), " holds ", seen,
                     " entries where the catalog recorded ", list.entries(),
                     "; the list is damaged (`tar -tv` of the artifact "
                     "lists its entries)"));
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
