#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace dxbackup::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  if (pipe(wake_) != 0) throw std::runtime_error("pipe");
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("cannot listen on loopback");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpProxy::~TcpProxy() {
  char c = 'x';
  (void)!write(wake_[1], &c, 1);
  acceptor_.join();
  std::vector<std::thread> pipes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pipes.swap(pipes_);
  }
  for (std::thread& t : pipes) t.join();
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void TcpProxy::Fault(FaultKind kind, uint64_t after_client_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  fault_ = kind;
  fault_after_ = after_client_bytes;
  fired_ = false;
}

void TcpProxy::AwaitFault() {
  std::unique_lock<std::mutex> lock(mu_);
  fired_cv_.wait(lock, [this] { return fired_.load(); });
}

void TcpProxy::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (refuse_) {
      close(client);
      continue;
    }
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(target_port_);
    if (server < 0 ||
        connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(client);
      if (server >= 0) close(server);
      continue;
    }
    ++connections_;
    std::lock_guard<std::mutex> lock(mu_);
    pipes_.emplace_back([this, client, server] { Forward(client, server); });
  }
}

void TcpProxy::Forward(int client, int server) {
  char buffer[64 << 10];
  uint64_t sent_up = 0;
  bool frozen = false;
  for (;;) {
    pollfd fds[3] = {{client, static_cast<short>(frozen ? 0 : POLLIN), 0},
                     {server, static_cast<short>(frozen ? 0 : POLLIN), 0},
                     {wake_[0], POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents != 0) break;
    const bool up = fds[0].revents != 0;
    const int from = up ? client : server;
    const int to = up ? server : client;
    size_t want = sizeof buffer;
    FaultKind fault = kNone;
    if (up) {
      std::lock_guard<std::mutex> lock(mu_);
      if (fault_ != kNone && !fired_) {
        if (sent_up >= fault_after_) {
          fault = fault_;
          fired_ = true;
          fired_cv_.notify_all();
        } else {
          want = std::min<uint64_t>(want, fault_after_ - sent_up);
        }
      }
    }
    if (fault == kCut) break;
    if (fault == kFreeze) {
      frozen = true;
      continue;
    }
    ssize_t n = recv(from, buffer, want, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || !WriteAll(to, buffer, static_cast<size_t>(n))) break;
    if (up) {
      sent_up += static_cast<uint64_t>(n);
      upstream_bytes_ += static_cast<uint64_t>(n);
    }
  }
  shutdown(client, SHUT_RDWR);
  shutdown(server, SHUT_RDWR);
  close(client);
  close(server);
}

}  // namespace dxbackup::testing
