#include "scheduler/store/artifact_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/resource_names.h"

namespace dxbackup::scheduler {
namespace fs = std::filesystem;
namespace {

absl::Status FsyncDirectory(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", dir, ": ", std::strerror(errno)));
  }
  int rc = fsync(fd);
  close(fd);
  if (rc != 0) {
    return absl::DataLossError(
        absl::StrCat("cannot fsync ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status WriteError(const std::string& path, int err) {
  if (err == ENOSPC || err == EDQUOT) {
    return absl::ResourceExhaustedError(
        absl::StrCat("store is full writing ", path,
                     ": free space or grow the volume under the data dir"));
  }
  return absl::DataLossError(
      absl::StrCat("cannot write ", path, ": ", std::strerror(err)));
}

}  // namespace

PendingArtifact::PendingArtifact(ArtifactStore* store, int fd,
                                 std::string final_path,
                                 std::string relative_path)
    : store_(store),
      namespace_(relative_path.substr(0, relative_path.find('/'))),
      fd_(fd),
      writer_(fd),
      final_path_(std::move(final_path)),
      partial_path_(final_path_ + ArtifactStore::kPartialSuffix),
      relative_path_(std::move(relative_path)) {}

PendingArtifact::~PendingArtifact() {
  if (!done_) Abandon();
}

void PendingArtifact::Abandon() {
  if (done_) return;
  done_ = true;
  close(fd_);
  unlink(partial_path_.c_str());
  store_->Settle(namespace_, bytes_, /*committed=*/false);
}

absl::Status PendingArtifact::Append(const void* data, size_t size) {
  if (done_) return absl::FailedPreconditionError("artifact already closed");
  if (absl::Status s = store_->Reserve(namespace_, size); !s.ok()) return s;
  digest_.Update(data, size);
  bytes_ += size;  // reserved: Settle returns it whatever happens
  if (int err = writer_.Append(data, size))
    return WriteError(partial_path_, err);
  return absl::OkStatus();
}

absl::Status PendingArtifact::Commit(const std::string& expected_sha256) {
  if (done_) return absl::FailedPreconditionError("artifact already closed");
  sha256_ = digest_.HexDigest();
  if (!expected_sha256.empty() && expected_sha256 != sha256_) {
    Abandon();
    return absl::DataLossError(absl::StrCat(
        "digest mismatch for ", relative_path_, ": sender says ",
        expected_sha256, ", received bytes hash to ", sha256_,
        "; the stream was damaged in transit and nothing was stored"));
  }
  int err = writer_.Finish();
  if (err == 0 && fsync(fd_) != 0) err = errno;
  if (err != 0) {
    Abandon();
    return WriteError(partial_path_, err);
  }
  close(fd_);
  done_ = true;
  if (rename(partial_path_.c_str(), final_path_.c_str()) != 0) {
    int err = errno;
    unlink(partial_path_.c_str());
    store_->Settle(namespace_, bytes_, /*committed=*/false);
    return absl::InternalError(absl::StrCat("cannot rename ", partial_path_,
                                            ": ", std::strerror(err)));
  }
  store_->Settle(namespace_, bytes_, /*committed=*/true);
  return FsyncDirectory(fs::path(final_path_).parent_path().string());
}

ArtifactStore::ArtifactStore(std::string store_dir)
    : dir_(std::move(store_dir)) {}

absl::Status ArtifactStore::Init() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create store ", dir_, ": ", ec.message()));
  }
  return absl::OkStatus();
}

std::string ArtifactStore::RelativePath(const std::string& namespace_,
                                        const std::string& release,
                                        const std::string& set_id,
                                        const std::string& file_name) {
  return absl::StrCat(namespace_, "/", release, "/", set_id, "/", file_name);
}

std::string ArtifactStore::AbsolutePath(
    const std::string& relative_path) const {
  return absl::StrCat(dir_, "/", relative_path);
}

absl::StatusOr<std::unique_ptr<PendingArtifact>> ArtifactStore::Begin(
    const std::string& relative_path) {
  // Names in the path came from agents: never anything but a plain path
  // below the store.
  if (absl::Status s =
          common::CheckNormalRelativePath("artifact path", relative_path);
      !s.ok()) {
    return s;
  }
  const std::string final_path = AbsolutePath(relative_path);
  std::error_code ec;
  const fs::path parent = fs::path(final_path).parent_path();
  fs::create_directories(parent, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", parent.string(), ": ", ec.message()));
  }
  if (fs::exists(final_path)) {
    return absl::AlreadyExistsError(
        absl::StrCat("artifact ", relative_path, " already stored"));
  }
  const std::string partial = final_path + kPartialSuffix;
  int fd =
      open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return WriteError(partial, errno);
  if (quota_bytes_ != 0) {
    // Count again what the namespace keeps: retention may have removed
    // sets since.
    const std::string ns = relative_path.substr(0, relative_path.find('/'));
    const uint64_t stored = StoredBytes(ns);
    std::lock_guard<std::mutex> lock(mu_);
    usage_[ns].stored = stored;
  }
  return std::unique_ptr<PendingArtifact>(
      new PendingArtifact(this, fd, final_path, relative_path));
}

absl::Status ArtifactStore::Reserve(const std::string& ns, uint64_t bytes) {
  if (quota_bytes_ == 0) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  Usage& usage = usage_[ns];
  if (usage.stored + usage.writing + bytes > quota_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "namespace ", ns, " is at its store quota of ", quota_bytes_,
        " bytes (", usage.stored, " stored, ", usage.writing,
        " being written): remove sets (`dxbackup prune`, tighter retention) "
        "or raise limits.max_store_bytes_per_namespace"));
  }
  usage.writing += bytes;
  return absl::OkStatus();
}

void ArtifactStore::Settle(const std::string& ns, uint64_t bytes,
                           bool committed) {
  if (quota_bytes_ == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  Usage& usage = usage_[ns];
  usage.writing -= std::min(usage.writing, bytes);
  if (committed) usage.stored += bytes;
}

uint64_t ArtifactStore::StoredBytes(const std::string& ns) const {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_ + "/" + ns, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) &&
        !absl::EndsWith(it->path().filename().string(), kPartialSuffix)) {
      total += it->file_size(ec);
    }
  }
  return total;
}

absl::StatusOr<std::vector<std::string>> ArtifactStore::Reconcile(
    const std::vector<std::string>& known_paths) {
  std::set<std::string> known(known_paths.begin(), known_paths.end());
  std::vector<std::string> removed;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = fs::relative(it->path(), dir_).string();
    if (known.count(rel) == 0) {
      fs::remove(it->path());
      removed.push_back(rel);
    }
  }
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot scan store ", dir_, ": ", ec.message()));
  }
  return removed;
}

}  // namespace dxbackup::scheduler
