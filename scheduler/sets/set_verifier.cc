#include "scheduler/sets/set_verifier.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/sha256.h"
#include "scheduler/databases/external_backup.h"
#include "scheduler/notify/notices.h"
#include "scheduler/postgres/pg_dump_runner.h"
#include "scheduler/postgres/pg_tools.h"
#include "scheduler/store/artifact_pipe.h"

namespace dxbackup::scheduler {

namespace {

// libarchive's view of an ArtifactReader.
struct TarSource {
  ArtifactReader* reader;
  std::vector<char> buffer = std::vector<char>(1 << 20);
};

la_ssize_t ReadTarSource(struct archive* a, void* client, const void** out) {
  auto* source = static_cast<TarSource*>(client);
  absl::StatusOr<size_t> n =
      source->reader->Read(source->buffer.data(), source->buffer.size());
  if (!n.ok()) {
    archive_set_error(a, EIO, "%s", std::string(n.status().message()).c_str());
    return -1;
  }
  *out = source->buffer.data();
  return static_cast<la_ssize_t>(*n);
}

// Passes reads through, counting and hashing what passes.
class DigestingReader : public ArtifactReader {
 public:
  explicit DigestingReader(ArtifactReader* inner) : inner_(inner) {}

  absl::StatusOr<size_t> Read(void* buffer, size_t size) override {
    absl::StatusOr<size_t> n = inner_->Read(buffer, size);
    if (n.ok()) {
      digest_.Update(buffer, *n);
      bytes_ += *n;
    }
    return n;
  }
  // Reads what the consumer left (a tar's padding) to the end.
  absl::Status Drain() {
    return ForEachChunk(*this,
                        [](const char*, size_t) { return absl::OkStatus(); });
  }
  uint64_t bytes() const { return bytes_; }
  std::string HexDigest() { return digest_.HexDigest(); }

 private:
  ArtifactReader* inner_;
  common::Sha256 digest_;
  uint64_t bytes_ = 0;
};

}  // namespace

absl::StatusOr<uint64_t> ReadEveryTarEntry(ArtifactReader& tar) {
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_none(a);
  TarSource source{&tar};
  if (archive_read_open(a, &source, nullptr, ReadTarSource, nullptr) !=
      ARCHIVE_OK) {
    std::string err = archive_error_string(a) ? archive_error_string(a) : "";
    archive_read_free(a);
    return absl::DataLossError(absl::StrCat("not a readable tar: ", err));
  }
  uint64_t entries = 0;
  absl::Status status = absl::OkStatus();
  for (;;) {
    struct archive_entry* entry;
    int rc = archive_read_next_header(a, &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      status = absl::DataLossError(absl::StrCat(
          "unreadable after entry ", entries, ": ", archive_error_string(a)));
      break;
    }
    const std::string name = archive_entry_pathname(entry);
    const void* block;
    size_t size;
    la_int64_t offset;
    while ((rc = archive_read_data_block(a, &block, &size, &offset)) ==
           ARCHIVE_OK) {
    }
    if (rc != ARCHIVE_EOF) {
      status = absl::DataLossError(absl::StrCat(
          "entry ", name, " unreadable: ", archive_error_string(a)));
      break;
    }
    ++entries;
  }
  archive_read_free(a);
  if (!status.ok()) return status;
  return entries;
}

SetVerifier::SetVerifier(SetCatalog* sets, ArtifactStore* store,
                         const common::Clock* clock,
                         const crypto::KeyRing* keys, NoticeSink* notices)
    : sets_(sets),
      store_(store),
      clock_(clock),
      keys_(keys),
      notices_(notices) {}

v1::ArtifactCheck SetVerifier::Check(
    const v1::Artifact& artifact, bool deep,
    const std::vector<crypto::Identity>& given) {
  v1::ArtifactCheck check;
  check.set_target(artifact.target());
  const std::string& key = artifact.path();
  auto fail = [&](const std::string& why) {
    check.set_ok(false);
    check.set_detail(why);
    return check;
  };
  absl::StatusOr<uint64_t> size = store_->Stat(key);
  if (absl::IsNotFound(size.status())) {
    return fail("file missing from the store");
  }
  if (!size.ok()) return fail(std::string(size.status().message()));
  if (*size != artifact.bytes()) {
    return fail(
        absl::StrCat("size ", *size, ", catalog says ", artifact.bytes()));
  }
  absl::StatusOr<std::unique_ptr<ArtifactReader>> reader = store_->Open(key);
  if (!reader.ok()) return fail(std::string(reader.status().message()));
  common::Sha256 digest;
  absl::Status read = ForEachChunk(**reader, [&](const char* data, size_t n) {
    digest.Update(data, n);
    return absl::OkStatus();
  });
  if (!read.ok()) return fail(std::string(read.message()));
  if (digest.HexDigest() != artifact.sha256()) {
    return fail(absl::StrCat("SHA-256 ", digest.HexDigest(), ", catalog says ",
                             artifact.sha256()));
  }
  if (!deep) {
    check.set_ok(true);
    return check;
  }
  return CheckContents(artifact, given);
}

std::vector<v1::ArtifactCheck> SetVerifier::CheckEach(
    const std::vector<v1::Artifact>& artifacts) {
  std::vector<v1::ArtifactCheck> checks(artifacts.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < artifacts.size();) {
      checks[i] = Check(artifacts[i], /*deep=*/false);
    }
  };
  std::vector<std::thread> threads;
  const size_t count = std::min(kParallelChecks, artifacts.size());
  for (size_t t = 1; t < count; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return checks;
}

v1::ArtifactCheck SetVerifier::CheckContents(
    const v1::Artifact& artifact, const std::vector<crypto::Identity>& given) {
  v1::ArtifactCheck check;
  check.set_target(artifact.target());
  auto fail = [&](const std::string& why) {
    check.set_ok(false);
    check.set_detail(why);
    return check;
  };
  // The contents, read again as a restore reads them: the plaintext.
  absl::StatusOr<std::unique_ptr<ArtifactReader>> reader =
      keys_->OpenPlain(*store_, artifact, given);
  if (!reader.ok()) return fail(std::string(reader.status().message()));
  DigestingReader plain(reader->get());
  if (artifact.kind() == v1::ARTIFACT_VOLUME_TAR) {
    absl::StatusOr<uint64_t> entries = ReadEveryTarEntry(plain);
    if (!entries.ok()) return fail(std::string(entries.status().message()));
    if (*entries != artifact.file_count()) {
      return fail(absl::StrCat(*entries, " entries, catalog says ",
                               artifact.file_count()));
    }
  }
  if (artifact.kind() == v1::ARTIFACT_PG_DUMP) {
    absl::StatusOr<PgTool> tool = FindNewestPgTool("pg_restore");
    if (!tool.ok()) return fail(std::string(tool.status().message()));
    // The dump on pg_restore's stdin, as a restore reads it.
    std::unique_ptr<ArtifactReader> input = PgRestoreInput(artifact, &plain);
    auto run =
        RunProcessReading({{tool->path, "--file=/dev/null"}, {}}, *input);
    if (!run.ok()) return fail(std::string(run.status().message()));
    if (run->exit_code != 0) {
      return fail(absl::StrCat("pg_restore ", tool->version,
                               " cannot read it: ", run->stderr_text));
    }
  }
  if (artifact.kind() == v1::ARTIFACT_COMMAND_DUMP ||
      artifact.kind() == v1::ARTIFACT_PG_GLOBALS ||
      artifact.kind() == v1::ARTIFACT_KUBERNETES_OBJECTS) {
    // Only its own engine (or psql, running it) can read it: its zstd
    // stream is read whole (every frame's checksum).
    std::unique_ptr<ArtifactReader> input = PgRestoreInput(artifact, &plain);
    absl::Status read = ForEachChunk(
        *input, [](const char*, size_t) { return absl::OkStatus(); });
    if (!read.ok()) return fail(std::string(read.message()));
  }
  if (artifact.kind() == v1::ARTIFACT_EXTERNAL_BACKUP) {
    // The stored output still names the backup the catalog records.
    std::string text;
    absl::Status read = ForEachChunk(plain, [&](const char* data, size_t n) {
      if (text.size() + n > kMaxExternalOutputBytes) {
        return absl::DataLossError("larger than a backup command's output");
      }
      text.append(data, n);
      return absl::OkStatus();
    });
    if (!read.ok()) return fail(std::string(read.message()));
    if (ExternalIdentifier(text) != artifact.external_id()) {
      return fail(absl::StrCat("names backup ", ExternalIdentifier(text),
                               ", catalog says ", artifact.external_id()));
    }
  }
  if (!artifact.encrypted_for().empty()) {
    if (absl::Status s = plain.Drain(); !s.ok()) {
      return fail(std::string(s.message()));
    }
    const std::string sha256 = plain.HexDigest();
    if (plain.bytes() != artifact.plain_bytes() ||
        sha256 != artifact.plain_sha256()) {
      return fail(absl::StrCat("decrypted: ", plain.bytes(),
                               " bytes with SHA-256 ", sha256,
                               ", catalog says ", artifact.plain_bytes(),
                               " bytes with ", artifact.plain_sha256()));
    }
  }
  check.set_ok(true);
  return check;
}

absl::Status SetVerifier::MarkCorrupt(
    const std::string& set_id, const std::vector<std::string>& problems) {
  absl::StatusOr<v1::BackupSet> set = sets_->GetSet(set_id);
  if (!set.ok()) return set.status();
  v1::Verification* v = set->mutable_verification();
  const bool news = v->result() != v1::Verification::CORRUPT;
  v->set_result(v1::Verification::CORRUPT);
  v->set_deep(false);
  v->set_verified_unix(clock_->NowUnix());
  v->set_detail(absl::StrJoin(problems, "; "));
  absl::Status s = sets_->UpdateSet(*set);
  if (s.ok() && news && notices_ != nullptr) {
    notices_->Notify(CorruptionNotice(*set));
  }
  return s;
}

absl::StatusOr<v1::VerifyResponse> SetVerifier::Verify(
    const std::string& set_id, bool deep,
    const std::vector<crypto::Identity>& given) {
  SetLeases::Lease lease;
  if (leases_ != nullptr) {
    auto taken = leases_->Take(set_id, "a verification");
    if (!taken.ok()) return taken.status();
    lease = *std::move(taken);
  }
  absl::StatusOr<v1::BackupSet> set = sets_->GetSet(set_id);
  if (!set.ok()) return set.status();
  // Its files are going (a removal a crash interrupted, finished at the
  // next start): missing ones would be no sign of damage.
  if (set->status() == v1::SET_EXPIRING) {
    return absl::NotFoundError(
        absl::StrCat("set ", set_id, " is being removed; nothing verified"));
  }
  auto artifacts = sets_->ListArtifacts(set_id);
  if (!artifacts.ok()) return artifacts.status();
  // A missing or wrong key is the caller's to fix, not the set's fault:
  // the deep check stops, recording nothing.
  auto refused = [&](const absl::Status& why) {
    return absl::Status(why.code(),
                        absl::StrCat("a deep verification of set ", set_id,
                                     " reads its contents: ", why.message(),
                                     "; without it, `verify` (not deep) still "
                                     "checks every stored byte"));
  };
  if (deep) {
    for (const v1::Artifact& a : *artifacts) {
      if (!keys_->CanTryToOpen(a, given)) {
        return refused(keys_->CheckOpens(*store_, a, given));
      }
    }
  }
  v1::VerifyResponse response;
  std::vector<std::string> problems;
  // The stored bytes first: a damaged age header must be found corrupt,
  // not taken for a wrong key.
  std::vector<v1::ArtifactCheck> stored = CheckEach(*artifacts);
  for (size_t i = 0; i < artifacts->size(); ++i) {
    const v1::Artifact& a = (*artifacts)[i];
    v1::ArtifactCheck check = std::move(stored[i]);
    if (check.ok() && deep) {
      absl::Status opens = keys_->CheckOpens(*store_, a, given);
      if (absl::IsPermissionDenied(opens)) return refused(opens);
      check = CheckContents(a, given);
    }
    if (!check.ok()) problems.push_back(a.target() + ": " + check.detail());
    *response.add_checks() = std::move(check);
  }
  // The file lists of older sets (catalog.file_index_sets): their stored
  // bytes too. A damaged one costs `files` and `find`, not a restore: it
  // does not make the set corrupt, but the verification says so.
  std::vector<std::string> details = problems;
  for (const v1::Artifact& a : *artifacts) {
    if (!a.has_file_list()) continue;
    v1::Artifact list;
    list.set_target(a.target() + " (file list)");
    list.set_path(a.file_list().path());
    list.set_bytes(a.file_list().bytes());
    list.set_sha256(a.file_list().sha256());
    list.set_encrypted_for(a.file_list().encrypted_for());
    v1::ArtifactCheck check = Check(list, /*deep=*/false);
    if (!check.ok()) {
      details.push_back(absl::StrCat(list.target(), ": ", check.detail(),
                                     " (`files` and `find --older` of this "
                                     "set fail; its data restores)"));
    }
    *response.add_checks() = std::move(check);
  }
  v1::Verification* v = set->mutable_verification();
  // Told once: not again at each scheduled look at a set known corrupt.
  const bool news =
      !problems.empty() && v->result() != v1::Verification::CORRUPT;
  v->set_result(problems.empty() ? v1::Verification::VERIFIED
                                 : v1::Verification::CORRUPT);
  v->set_deep(deep);
  v->set_verified_unix(clock_->NowUnix());
  v->set_detail(absl::StrJoin(details, "; "));
  absl::Status s = sets_->UpdateSet(*set);
  if (s.ok() && news && notices_ != nullptr) {
    notices_->Notify(CorruptionNotice(*set));
  }
  if (!s.ok()) return s;
  *response.mutable_set() = *set;
  return response;
}

}  // namespace dxbackup::scheduler
