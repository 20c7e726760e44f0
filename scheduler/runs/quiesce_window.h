// QuiesceWindow runs a planned run's jobs in the DX order, for backup sets
// and restores alike: the jobs that need DX up (`before`), the scale-down
// of the pods that take no part (`scale_down`), every pre-hook,
// then the work in stages (each stage started at once and waited for
// before the next), then every post-hook, which runs whatever happened
// before (unless the work asks them held: WindowWork::hold_post), the
// scale-up (`scale_up`), and the jobs that need DX up again (`after`). A
// pre-hook that failed and may not (on_failure is not CONTINUE) skips all of
// the work, each job failing with the reason; the post-hooks still run.
//
// A work job is one of three: an agent's, sent to the agent's current
// connection through DispatchToAgent (the AgentChannel of its stream) and
// failed with `disconnected` when that agent is not connected; the
// scheduler's own (a database dump or restore), run on a thread of its
// own, which must end its job on the board; or one that fails at once
// with `fail` (an offline agent's).
//
//   QuiesceWindow window({registry, board, time});
//   WindowResult done = window.Run(work);   // blocks until all ended
//
// Every job must be on the board before Run. Thread-safe: Run may be
// called on several threads at once.
#ifndef DXBACKUP_SCHEDULER_RUNS_QUIESCE_WINDOW_H_
#define DXBACKUP_SCHEDULER_RUNS_QUIESCE_WINDOW_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/cancellation.h"
#include "common/time_source.h"
#include "dxbackup/v1/agent.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/runs/hook_jobs.h"

namespace dxbackup::scheduler {

// The default of WindowWork::own_jobs_at_once.
inline constexpr int kOwnJobsAtOnce = 4;

// One job of the work inside the window.
struct WindowJob {
  std::string job_id;
  // An agent's job: the agent, what it is sent, and the error when it is
  // not connected.
  std::string agent_id;
  v1::SchedulerMessage command;
  std::string disconnected;
  // The scheduler's own job (set: run on a thread instead of sent).
  std::function<void()> run;
  // Set: the job fails at once with this error (UNAVAILABLE: its agent is
  // offline).
  std::string fail;
};

struct WindowWork {
  // Run first, while DX still runs: the Kubernetes objects, a command
  // that needs DX up (DumpCommand.while_running). Their failures stop
  // nothing after them.
  std::vector<WindowJob> before;
  // Run next, before the pre-hooks (the core StatefulSet scaled to one
  // replica). When one fails, nothing else is stopped or run — the
  // pre-hooks, the stages, the post-hooks and `after` each fail, naming
  // it — but `scale_up` still runs.
  std::vector<WindowJob> scale_down;
  std::vector<HookJob> pre;
  std::vector<std::vector<WindowJob>> stages;
  // Set: once a job of a stage failed, the later stages are not run (each
  // of their jobs fails, naming it); the post-hooks still run.
  bool stages_need_previous = false;
  // How many of a stage's own jobs (database dumps and restores) run at
  // once, the rest waiting their turn; 0: all. Each holds connections to
  // its server (pg_restore --jobs several), and a server's
  // max_connections is finite.
  int own_jobs_at_once = kOwnJobsAtOnce;
  std::vector<HookJob> post;
  // Set: once the stages ran, the post-hooks are not run (their jobs fail
  // with this), so that DX stays stopped until the operator has done what
  // the work could not (an external database restored by hand). When a
  // pre-hook blocked the work, the post-hooks run as always.
  std::string hold_post;
  // Run last, once the post-hooks have started DX again (a command that
  // needs it up: DAM's references imported with xmlaccess). Not run — each
  // job failing, saying why — when the post-hooks were held or one failed,
  // or when the work was skipped (a blocking pre-hook; a failed stage with
  // stages_need_previous).
  std::vector<WindowJob> after;
  // Run once the post-hooks ran (or were held), before `after`: whatever
  // `scale_down` changed, put back.
  std::vector<WindowJob> scale_up;
  // The run's (nullptr: it cannot be cancelled). Cancelled, every job of
  // `before`, `scale_down`, the stages and `after` not ended fails
  // (CANCELLED, its reason), the later ones without starting. Hooks and
  // `scale_up` are never cancelled: cancelled before the pre-hooks, no
  // hook runs (nothing was stopped); after, every post-hook runs, so DX
  // comes back up.
  common::Cancellation* cancel = nullptr;
};

struct WindowResult {
  // The final jobs: before, scale_down, pre-hooks, each stage's,
  // post-hooks, scale_up, after, in plan order.
  std::vector<v1::Job> jobs;
  // From the first pre-hook sent to the last post-hook's end (`before`
  // and `after` are outside the window).
  int64_t seconds = 0;
  // The post-hooks were held (WindowWork::hold_post): DX stays stopped.
  bool post_held = false;
  // The cancel stopped something: a job ended CANCELLED. A cancel that
  // came once every job had ended (or during the post-hooks, after the
  // work was done) stopped nothing, and the run ends as it would have.
  bool cancelled = false;
};

// The warning a quiesce window of `seconds` earns: "" below 80% of
// `config`'s quiesce_limit_seconds (150 when unset), else one saying so.
std::string QuiesceWarning(int64_t seconds, const v1::SchedulerConfig& config);

class QuiesceWindow {
 public:
  // All must outlive the window.
  struct Parts {
    // Where agents' jobs are sent.
    AgentRegistry* registry;
    // The jobs, ended and waited for.
    JobBoard* board;
    // The window's length, and the wait for a reconnecting agent's hooks.
    const common::TimeSource* time;
  };
  explicit QuiesceWindow(const Parts& parts) : parts_(parts) {}

  WindowResult Run(const WindowWork& work);

 private:
  // Fails each of `hooks` with `why`, without sending it.
  std::vector<v1::Job> FailHooks(const std::vector<HookJob>& hooks,
                                 const absl::Status& why);
  // Starts each job of a stage (or fails it with `skip`, if set), the
  // scheduler's own `own_at_once` at a time (0: all), waits for all and
  // returns them.
  // The jobs fail when `cancel` (may be null) is cancelled.
  std::vector<v1::Job> RunStage(const std::vector<WindowJob>& stage,
                                const std::string& skip, int own_at_once,
                                common::Cancellation* cancel);

  Parts parts_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_QUIESCE_WINDOW_H_
