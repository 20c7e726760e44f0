// The tests' webhook receiver (webhook_receiver.py, a real HTTP server on
// loopback) started as a child process, and what it received.
//
//   auto receiver = StartReceiver("0", dir / "received", dir / "log");
//   receiver->WaitForLine("listening on port");   // "… port N"
//   auto got = Received(dir / "received", 1);
#ifndef DXBACKUP_TESTS_SUPPORT_WEBHOOK_RECEIVER_H_
#define DXBACKUP_TESTS_SUPPORT_WEBHOOK_RECEIVER_H_

#include <unistd.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::testing {

// Listens on 127.0.0.1:`port` ("0": any free port) and appends each POST
// to `out` as a JSON line {"path", "content_type", "body"}.
inline std::unique_ptr<ChildProcess> StartReceiver(const std::string& port,
                                                   const std::string& out,
                                                   const std::string& log) {
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/python3",
                               std::string(DXBACKUP_SOURCE_DIR) +
                                   "/tests/support/webhook_receiver.py",
                               port, out},
      log);
}

// The requests in `out`, once there are `n` (waiting up to a minute for
// the scheduler's deliveries and retries); fewer if they did not come.
inline std::vector<google::protobuf::Struct> Received(const std::string& out,
                                                      size_t n) {
  std::vector<google::protobuf::Struct> requests;
  for (int i = 0; i < 6000; ++i) {
    requests.clear();
    std::istringstream lines(ReadFile(out));
    for (std::string line; std::getline(lines, line);) {
      google::protobuf::Struct r;
      if (google::protobuf::util::JsonStringToMessage(line, &r).ok()) {
        requests.push_back(r);
      }
    }
    if (requests.size() >= n) break;
    usleep(10000);  // waiting for requests, not for time to pass
  }
  return requests;
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_WEBHOOK_RECEIVER_H_
