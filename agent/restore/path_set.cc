#include "agent/restore/path_set.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"

namespace dxbackup::agent {
namespace {

constexpr size_t kReadBytes = 64 << 10;
constexpr size_t kWriteBytes = 1 << 20;

absl::Status WriteAll(int fd, std::string* pending) {
  for (size_t done = 0; done < pending->size();) {
    const ssize_t n = write(fd, pending->data() + done, pending->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot write the restore's path list to a temporary file: ",
          std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  pending->clear();
  return absl::OkStatus();
}

}  // namespace

PathSet::PathSet(std::string temp_dir, size_t run_bytes)
    : temp_dir_(std::move(temp_dir)), run_bytes_(run_bytes) {
  if (temp_dir_.empty()) {
    std::error_code ec;
    temp_dir_ = std::filesystem::temp_directory_path(ec).string();
    if (ec) temp_dir_ = "/tmp";
  }
}

std::string_view PathSet::Held(size_t i) const {
  return std::string_view(arena_.data() + starts_[i]);
}

absl::Status PathSet::Add(std::string_view path) {
  if (sealed_) return absl::FailedPreconditionError("path set already sealed");
  starts_.push_back(static_cast<uint32_t>(arena_.size()));
  arena_.append(path);
  arena_.push_back('\0');
  if (arena_.size() + starts_.size() * sizeof(uint32_t) >= run_bytes_) {
    return Spill();
  }
  return absl::OkStatus();
}

void PathSet::SortHeld() {
  std::sort(starts_.begin(), starts_.end(), [&](uint32_t a, uint32_t b) {
    return std::string_view(arena_.data() + a) <
           std::string_view(arena_.data() + b);
  });
  starts_.erase(std::unique(starts_.begin(), starts_.end(),
                            [&](uint32_t a, uint32_t b) {
                              return std::string_view(arena_.data() + a) ==
                                     std::string_view(arena_.data() + b);
                            }),
                starts_.end());
}

absl::StatusOr<UniqueFd> PathSet::NewTempFile() const {
  UniqueFd fd(open(temp_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd.valid()) {  // a file system without O_TMPFILE
    std::string name = temp_dir_ + "/dxbackup-paths-XXXXXX";
    fd.reset(mkostemp(name.data(), O_CLOEXEC));
    if (fd.valid()) unlink(name.c_str());
  }
  if (!fd.valid()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot create a temporary file in ", temp_dir_,
                     " for the restore's path list: ", std::strerror(errno)));
  }
  return fd;
}

absl::Status PathSet::Spill() {
  SortHeld();
  absl::StatusOr<UniqueFd> run = NewTempFile();
  if (!run.ok()) return run.status();
  std::string pending;
  for (size_t i = 0; i < starts_.size(); ++i) {
    pending.append(Held(i));
    pending.push_back('\0');
    if (pending.size() >= kWriteBytes) {
      absl::Status s = WriteAll(run->get(), &pending);
      if (!s.ok()) return s;
    }
  }
  absl::Status s = WriteAll(run->get(), &pending);
  if (!s.ok()) return s;
  runs_.push_back(*std::move(run));
  arena_.clear();
  arena_.shrink_to_fit();
  starts_.clear();
  starts_.shrink_to_fit();
  return absl::OkStatus();
}

absl::Status PathSet::Seal() {
  sealed_ = true;
  if (runs_.empty()) {  // small enough: stays in memory
    SortHeld();
    size_ = starts_.size();
    return absl::OkStatus();
  }
  if (!starts_.empty()) {
    absl::Status s = Spill();
    if (!s.ok()) return s;
  }
  // A k-way merge of the runs, duplicates dropped.
  absl::StatusOr<UniqueFd> merged = NewTempFile();
  if (!merged.ok()) return merged.status();
  struct Head {
    std::string path;
    size_t run;
    bool operator>(const Head& other) const { return path > other.path; }
  };
  std::vector<FileReader> readers;
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
  for (size_t i = 0; i < runs_.size(); ++i) {
    readers.emplace_back(runs_[i].get());
  }
  for (size_t i = 0; i < readers.size(); ++i) {
    Head head{"", i};
    absl::StatusOr<bool> more = readers[i].Next(&head.path);
    if (!more.ok()) return more.status();
    if (*more) heads.push(std::move(head));
  }
  std::string pending, last;
  while (!heads.empty()) {
    Head head = heads.top();
    heads.pop();
    if (size_ == 0 || head.path != last) {
      pending.append(head.path);
      pending.push_back('\0');
      last = head.path;
      ++size_;
      if (pending.size() >= kWriteBytes) {
        absl::Status s = WriteAll(merged->get(), &pending);
        if (!s.ok()) return s;
      }
    }
    absl::StatusOr<bool> more = readers[head.run].Next(&head.path);
    if (!more.ok()) return more.status();
    if (*more) heads.push(std::move(head));
  }
  absl::Status s = WriteAll(merged->get(), &pending);
  if (!s.ok()) return s;
  runs_.clear();
  merged_ = *std::move(merged);
  return absl::OkStatus();
}

absl::StatusOr<bool> PathSet::FileReader::Next(std::string* path) {
  for (;;) {
    const size_t end = buffer_.find('\0', consumed_);
    if (end != std::string::npos) {
      path->assign(buffer_, consumed_, end - consumed_);
      consumed_ = end + 1;
      return true;
    }
    buffer_.erase(0, consumed_);
    consumed_ = 0;
    const size_t had = buffer_.size();
    buffer_.resize(had + kReadBytes);
    ssize_t n;
    do {
      n = pread(fd_, buffer_.data() + had, kReadBytes,
                static_cast<off_t>(offset_));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      return absl::DataLossError(absl::StrCat(
          "cannot read the restore's path list back from its temporary "
          "file: ",
          std::strerror(errno)));
    }
    buffer_.resize(had + static_cast<size_t>(n));
    offset_ += static_cast<uint64_t>(n);
    if (n == 0) return false;  // a run always ends with a NUL
  }
}

PathSet::Cursor PathSet::Read() const { return Cursor(this); }

PathSet::Cursor::Cursor(const PathSet* set)
    : set_(set), file_(set->merged_.get()) {}

absl::StatusOr<bool> PathSet::Cursor::Advance() {
  if (!set_->merged_.valid()) {
    if (index_ >= set_->starts_.size()) return false;
    current_.assign(set_->Held(index_++));
    return true;
  }
  return file_.Next(&current_);
}

absl::StatusOr<bool> PathSet::Cursor::Contains(std::string_view path) {
  if (!started_) {
    started_ = true;
    absl::StatusOr<bool> more = Advance();
    if (!more.ok()) return more.status();
    at_end_ = !*more;
  }
  while (!at_end_ && std::string_view(current_) < path) {
    absl::StatusOr<bool> more = Advance();
    if (!more.ok()) return more.status();
    at_end_ = !*more;
  }
  return !at_end_ && current_ == path;
}

}  // namespace dxbackup::agent
