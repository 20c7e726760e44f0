// TcpProxy forwards a loopback port to another, and can break the
// connection the way networks do, at an exact byte rather than a moment:
//
//   TcpProxy proxy(server_port);
//   proxy.Fault(TcpProxy::kCut, 4 << 20);  // the first connection to carry
//                                          // 4 MiB client-to-server is cut
//   ... dial 127.0.0.1:proxy.port() ...
//
// kCut closes both sockets at that byte (the peers see a reset stream);
// kFreeze stops forwarding in both directions but keeps the sockets open
// (a black hole: only a timeout notices). A fault fires once, on the first
// connection that crosses its byte count; later connections pass.
//
// Thread-safe. The destructor closes everything.
#ifndef DXBACKUP_TESTS_SUPPORT_TCP_PROXY_H_
#define DXBACKUP_TESTS_SUPPORT_TCP_PROXY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace dxbackup::testing {

class TcpProxy {
 public:
  enum FaultKind { kNone, kCut, kFreeze };

  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void Fault(FaultKind kind, uint64_t after_client_bytes);
  // While set, new connections are accepted and closed at once.
  void RefuseNew(bool refuse) { refuse_ = refuse; }

  // Client-to-server bytes forwarded over all connections.
  uint64_t upstream_bytes() const { return upstream_bytes_; }
  int connections() const { return connections_; }
  bool fault_fired() const { return fired_; }
  // Blocks until the fault has fired.
  void AwaitFault();

 private:
  void AcceptLoop();
  void Forward(int client, int server);

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};  // a pipe: written to stop every thread
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pipes_;
  FaultKind fault_ = kNone;
  uint64_t fault_after_ = 0;
  std::atomic<bool> fired_{false};
  std::condition_variable fired_cv_;  // with mu_
  std::atomic<bool> refuse_{false};
  std::atomic<uint64_t> upstream_bytes_{0};
  std::atomic<int> connections_{0};
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_TCP_PROXY_H_
