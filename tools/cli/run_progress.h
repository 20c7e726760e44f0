// How the CLI shows a backup set's or a restore's progress while it
// follows the run. Piped (or with --json), a line per change of a job:
// logs and scripts read it. On a terminal, one line per target, redrawn
// in place as the jobs move: status, bytes, rate and, when the scheduler
// knows what a job will move (Job.expected_bytes), the time left.
//
// Thread-compatible: one follower feeds it.
#ifndef DXBACKUP_TOOLS_CLI_RUN_PROGRESS_H_
#define DXBACKUP_TOOLS_CLI_RUN_PROGRESS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "dxbackup/v1/types.pb.h"

namespace dxbackup::cli {

class RunProgress {
 public:
  virtual ~RunProgress() = default;
  // A job changed (its status, bytes or error).
  virtual void Job(const v1::Job& job) = 0;
  // A line of the run that is no job's.
  virtual void Message(const std::string& text) = 0;
};

std::unique_ptr<RunProgress> LineProgress(std::ostream* out);

using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;
// `now` times the rates (a test's clock, or steady_clock::now). The
// terminal's size (0: unknown): each row is cut to fit one line (a wrapped
// one would throw the redraw off), and once the rows would not fit on the
// screen the display goes on a line per change.
std::unique_ptr<RunProgress> LiveProgress(std::ostream* out, SteadyNow now,
                                          int columns = 0, int lines = 0);

// "1m05s", "2h03m", "12s".
std::string ShortDuration(int64_t seconds);

}  // namespace dxbackup::cli

#endif  // DXBACKUP_TOOLS_CLI_RUN_PROGRESS_H_
