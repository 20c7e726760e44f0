// ChildProcess runs a real binary for an integration test, capturing its
// stdout and stderr line by line (also appended to a log file for post-
// mortems) so a test can wait for a line instead of sleeping:
//
//   ChildProcess scheduler({bin, "--listen", "127.0.0.1:0", ...}, log_path);
//   std::string line = scheduler.WaitForLine("listening on port");
//
// The destructor stops a child that is still running with SIGTERM and lets
// it exit: a scheduler or agent must then exit 0 (unless the test itself
// killed or stopped it), and no child may have printed a sanitizer report
// (ASan, LSan, UBSan, TSan); either is a test failure.
#ifndef DXBACKUP_TESTS_SUPPORT_CHILD_PROCESS_H_
#define DXBACKUP_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dxbackup::testing {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv,
               const std::string& log_path);
  virtual ~ChildProcess();

  // The first line (stdout or stderr) containing `needle`, waiting up to
  // `timeout` for it; "" if it never came (the process may have exited).
  std::string WaitForLine(
      const std::string& needle,
      std::chrono::seconds timeout = std::chrono::seconds(60));
  // Like WaitForLine, for the `count`-th such line.
  std::string WaitForNthLine(
      const std::string& needle, int count,
      std::chrono::seconds timeout = std::chrono::seconds(60));
  void Signal(int sig);
  // Waits for exit; returns the exit code, or 128+signal.
  int Wait();
  // Everything printed so far.
  std::string Output();
  pid_t pid() const { return pid_; }

 private:
  void ReadLines(int fd);

  std::string program_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  bool signalled_by_test_ = false;  // sent anything but SIGTERM
  int exit_code_ = -1;
  std::string log_path_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  int open_streams_ = 2;
  std::thread out_reader_, err_reader_;
};

// Runs a command to completion; returns exit code, and output in *output.
int RunCommand(const std::vector<std::string>& argv, std::string* output,
               const std::vector<std::string>& extra_env = {});

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_CHILD_PROCESS_H_
