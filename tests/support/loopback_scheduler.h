// StartLoopbackScheduler runs a real dxbackup-scheduler for an integration
// test: plaintext on a loopback port it picks, its data under `dir`/data,
// its log in `dir`/scheduler.log.
//
//   std::string address;
//   auto scheduler = StartLoopbackScheduler(kBin, dir, dir / "s.yaml",
//                                           &address);
//   ASSERT_FALSE(address.empty()) << scheduler->Output();
#ifndef DXBACKUP_TESTS_SUPPORT_LOOPBACK_SCHEDULER_H_
#define DXBACKUP_TESTS_SUPPORT_LOOPBACK_SCHEDULER_H_

#include <memory>
#include <string>

#include "tests/support/child_process.h"

namespace dxbackup::testing {

// `*address` is "127.0.0.1:PORT" once it listens, "" if it never did.
inline std::unique_ptr<ChildProcess> StartLoopbackScheduler(
    const std::string& bin_dir, const std::string& dir,
    const std::string& config, std::string* address) {
  auto scheduler = std::make_unique<ChildProcess>(
      std::vector<std::string>{bin_dir + "/dxbackup-scheduler",
                               "--insecure-loopback", "--listen", "127.0.0.1:0",
                               "--data-dir", dir + "/data", "--config", config},
      dir + "/scheduler.log");
  const std::string line = scheduler->WaitForLine("listening on port");
  *address =
      line.empty() ? "" : "127.0.0.1:" + line.substr(line.rfind(' ') + 1);
  return scheduler;
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_LOOPBACK_SCHEDULER_H_
