#include "scheduler/store/directory_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "scheduler/store/direct_file_writer.h"

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

// The partial file of one write, renamed to the final name on Publish.
class PartialFileSink : public ObjectSink {
 public:
  PartialFileSink(int fd, std::string final_path)
      : fd_(fd),
        writer_(fd),
        final_path_(std::move(final_path)),
        partial_path_(final_path_ + DirectoryStore::kPartialSuffix) {}
  ~PartialFileSink() override { Discard(); }

  absl::Status Write(const void* data, size_t size) override {
    if (int err = writer_.Append(data, size))
      return WriteError(partial_path_, err);
    return absl::OkStatus();
  }

  absl::Status Publish() override {
    int err = writer_.Finish();
    if (err == 0 && fsync(fd_) != 0) err = errno;
    if (err != 0) return WriteError(partial_path_, err);
    close(fd_);
    fd_ = -1;
    if (rename(partial_path_.c_str(), final_path_.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot rename ", partial_path_,
                                              ": ", std::strerror(errno)));
    }
    published_ = true;
    absl::Status synced =
        FsyncDirectory(fs::path(final_path_).parent_path().string());
    // Not durable under its name: not published (the contract of Publish).
    if (!synced.ok()) unlink(final_path_.c_str());
    return synced;
  }

  void Discard() override {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    if (!published_) unlink(partial_path_.c_str());
  }

 private:
  int fd_;
  DirectFileWriter writer_;
  const std::string final_path_;
  const std::string partial_path_;
  bool published_ = false;
};

class FileReader : public ArtifactReader {
 public:
  FileReader(int fd, std::string key) : fd_(fd), key_(std::move(key)) {}
  ~FileReader() override { close(fd_); }

  absl::StatusOr<size_t> Read(void* buffer, size_t size) override {
    ssize_t n;
    do {
      n = read(fd_, buffer, size);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      return absl::DataLossError(
          absl::StrCat("cannot read ", key_, ": ", std::strerror(errno)));
    }
    return static_cast<size_t>(n);
  }

 private:
  const int fd_;
  const std::string key_;
};

}  // namespace

DirectoryStore::DirectoryStore(std::string store_dir)
    : dir_(std::move(store_dir)) {}

absl::Status DirectoryStore::Init() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create store ", dir_, ": ", ec.message()));
  }
  return absl::OkStatus();
}

std::string DirectoryStore::FilePath(const std::string& key) const {
  return absl::StrCat(dir_, "/", key);
}

absl::StatusOr<std::unique_ptr<ObjectSink>> DirectoryStore::StartObject(
    const std::string& key, int64_t /*locked_until_unix*/) {
  const std::string final_path = FilePath(key);
  const std::string partial = final_path + kPartialSuffix;
  const fs::path parent = fs::path(final_path).parent_path();
  // Twice: a Remove of the set's last file may take the directory away
  // between its creation and the open.
  int fd = -1;
  for (int attempt = 0; attempt < 2 && fd < 0; ++attempt) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", parent.string(), ": ", ec.message()));
    }
    fd = open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 && errno != ENOENT) break;
  }
  if (fd < 0) return WriteError(partial, errno);
  return std::make_unique<PartialFileSink>(fd, final_path);
}

absl::StatusOr<std::unique_ptr<ArtifactReader>> DirectoryStore::OpenObject(
    const std::string& key) {
  int fd = open(FilePath(key).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
    return absl::NotFoundError(absl::StrCat("artifact ", key, " not stored"));
  }
  if (fd < 0) {
    return absl::DataLossError(
        absl::StrCat("cannot open ", key, ": ", std::strerror(errno)));
  }
  return std::make_unique<FileReader>(fd, key);
}

absl::StatusOr<uint64_t> DirectoryStore::StatObject(const std::string& key) {
  struct stat st;
  if (stat(FilePath(key).c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("artifact ", key, " not stored"));
    }
    return absl::InternalError(
        absl::StrCat("cannot stat ", key, ": ", std::strerror(errno)));
  }
  return static_cast<uint64_t>(st.st_size);
}

absl::Status DirectoryStore::RemoveObject(const std::string& key) {
  const std::string path = FilePath(key);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", key, ": ", std::strerror(errno)));
  }
  // The set's directory goes with its last file; one still in use stays.
  const fs::path parent = fs::path(path).parent_path();
  if (parent != fs::path(dir_)) rmdir(parent.c_str());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoredObject>> DirectoryStore::ListObjects(
    const std::string& prefix) {
  // Only the directory the prefix names is walked.
  const size_t slash = prefix.rfind('/');
  const std::string start =
      slash == std::string::npos ? dir_ : FilePath(prefix.substr(0, slash));
  std::vector<StoredObject> objects;
  std::error_code ec;
  if (!fs::exists(start, ec)) return objects;
  for (auto it = fs::recursive_directory_iterator(start, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) ||
        absl::EndsWith(it->path().filename().string(), kPartialSuffix)) {
      continue;
    }
    std::string key = fs::relative(it->path(), dir_).string();
    if (!absl::StartsWith(key, prefix)) continue;
    const uint64_t bytes = it->file_size(entry_ec);
    if (entry_ec) continue;  // removed while listed
    objects.push_back({std::move(key), bytes});
  }
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot scan store ", start, ": ", ec.message()));
  }
  std::sort(objects.begin(), objects.end(),
            [](const StoredObject& a, const StoredObject& b) {
              return a.key < b.key;
            });
  return objects;
}

absl::StatusOr<std::vector<std::string>> DirectoryStore::RemoveUnfinished(
    const std::string& prefix) {
  std::vector<std::string> removed;
  std::error_code ec;
  // A prefix names directories ("ns/dx/"); one that is not there has
  // nothing unfinished.
  const fs::path under =
      prefix.empty() ? fs::path(dir_) : fs::path(dir_) / prefix;
  if (!prefix.empty()) {
    // Each component a plain name: no "", ".", ".." or absolute start.
    absl::string_view rest(prefix);
    if (rest.back() == '/') rest.remove_suffix(1);
    for (absl::string_view part : absl::StrSplit(rest, '/')) {
      if (part.empty() || part == "." || part == "..") {
        return absl::InvalidArgumentError(absl::StrCat(
            "store prefix ", prefix, " is not a plain relative path"));
      }
    }
  }
  if (!prefix.empty() && !fs::is_directory(under, ec)) return removed;
  for (auto it = fs::recursive_directory_iterator(under, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) ||
        !absl::EndsWith(it->path().filename().string(), kPartialSuffix)) {
      continue;
    }
    fs::remove(it->path(), entry_ec);
    removed.push_back(fs::relative(it->path(), dir_).string());
  }
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot scan store ", dir_, ": ", ec.message()));
  }
  return removed;
}

}  // namespace dxbackup::scheduler
