#include "scheduler/store/direct_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace dxbackup::scheduler {
namespace {

constexpr size_t kBufferBytes = 1 << 20;
constexpr size_t kBlock = 4096;
// Buffered bytes handed to writeback at a time (when not direct).
constexpr uint64_t kWritebackBytes = 8 << 20;

}  // namespace

DirectFileWriter::DirectFileWriter(int fd) : fd_(fd) {
  void* buffer = nullptr;
  const int flags = fcntl(fd_, F_GETFL);
  if (posix_memalign(&buffer, kBlock, kBufferBytes) == 0) {
    buffer_ = static_cast<char*>(buffer);
    direct_ = flags >= 0 && fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;
  }
}

DirectFileWriter::~DirectFileWriter() { std::free(buffer_); }

int DirectFileWriter::WriteAll(const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    data += n;
    size -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  if (!direct_ && written_ - handed_to_writeback_ >= kWritebackBytes) {
    // Start writeback now so that the final fsync has little left.
    sync_file_range(fd_, static_cast<off_t>(handed_to_writeback_),
                    static_cast<off_t>(written_ - handed_to_writeback_),
                    SYNC_FILE_RANGE_WRITE);
    handed_to_writeback_ = written_;
  }
  return 0;
}

int DirectFileWriter::Append(const void* data, size_t size) {
  if (buffer_ == nullptr) return WriteAll(static_cast<const char*>(data), size);
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const size_t take = std::min(size, kBufferBytes - used_);
    std::memcpy(buffer_ + used_, p, take);
    used_ += take;
    p += take;
    size -= take;
    if (used_ == kBufferBytes) {
      if (int err = WriteAll(buffer_, used_)) return err;
      used_ = 0;
    }
  }
  return 0;
}

int DirectFileWriter::Finish() {
  if (buffer_ == nullptr || used_ == 0) return 0;
  const size_t whole = direct_ ? used_ / kBlock * kBlock : used_;
  if (int err = WriteAll(buffer_, whole)) return err;
  if (whole < used_) {
    // The tail is not a whole block: write it through the page cache.
    const int flags = fcntl(fd_, F_GETFL);
    if (flags < 0 || fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) return errno;
    direct_ = false;
    if (int err = WriteAll(buffer_ + whole, used_ - whole)) return err;
  }
  used_ = 0;
  return 0;
}

}  // namespace dxbackup::scheduler
