// UniqueFd owns a file descriptor and closes it when it goes out of scope.
// Move-only; an empty one holds -1.
//
//   UniqueFd dir(openat(parent, "x", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
//   if (!dir.valid()) return ...;
#ifndef DXBACKUP_AGENT_RESTORE_UNIQUE_FD_H_
#define DXBACKUP_AGENT_RESTORE_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace dxbackup::agent {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor held, if any, and holds `fd` instead.
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_RESTORE_UNIQUE_FD_H_
