// The quiesce window with fakes: a registry whose agents are scripted
// channels that answer each job as it is sent (on the window's own
// thread, so no test waits for time), a JobBoard over a MemoryCatalog,
// and a FakeTimeSource that a hook moves on.
#include "scheduler/runs/quiesce_window.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/fake_time_source.h"
#include "tests/support/memory_catalog.h"

namespace dxbackup::scheduler {
namespace {

// An agent that answers every job it is sent at once: it succeeds unless
// told to fail the job, and may move the time on first.
class ScriptedAgent : public AgentChannel {
 public:
  bool Send(const v1::SchedulerMessage& message) override {
    if (message.has_cancel_job()) {  // the job ended already: ignored
      cancelled.push_back(message.cancel_job().job_id());
      return true;
    }
    std::string id;
    if (message.has_hook()) id = message.hook().job_id();
    if (message.has_restore()) id = message.restore().job_id();
    if (message.has_backup()) id = message.backup().job_id();
    sent->push_back(id);
    if (on_send.count(id)) on_send[id]();
    if (silent.count(id)) return true;  // runs until the scheduler ends it
    if (time != nullptr && takes.count(id)) time->Advance(takes[id]);
    v1::JobResult result;
    result.set_job_id(id);
    result.set_ok(fails.count(id) == 0);
    if (!result.ok()) result.set_error(fails[id]);
    EXPECT_TRUE(board->ReportResult(session, result).ok());
    return true;
  }
  void Close(const std::string&) override {}

  JobBoard* board = nullptr;
  uint64_t session = 0;
  std::vector<std::string>* sent = nullptr;
  std::map<std::string, std::string> fails;  // job id -> error
  std::vector<std::string> cancelled;        // CancelJob's job ids
  std::set<std::string> silent;              // jobs it never answers
  std::map<std::string, std::function<void()>> on_send;  // before answering
  testing::FakeTimeSource* time = nullptr;
  std::map<std::string, std::chrono::seconds> takes;  // job id -> how long
};

class QuiesceWindowTest : public ::testing::Test {
 protected:
  QuiesceWindowTest() {
    pre_hook_.set_name("stop-core");
    pre_hook_.set_component("core");
    pre_hook_.set_phase(v1::Hook::PRE);
    post_hook_.set_name("start-core");
    post_hook_.set_component("core");
    post_hook_.set_phase(v1::Hook::POST);
  }

  // Connects a scripted agent of pod `pod`; returns its id.
  std::string Connect(const std::string& pod, ScriptedAgent* agent) {
    v1::Hello hello;
    hello.set_namespace_("dx");
    hello.set_release("prod");
    hello.set_pod(pod);
    hello.set_component("core");
    agent->board = &board_;
    agent->sent = &sent_;
    absl::StatusOr<Registration> r = registry_.Register(hello, "", agent);
    EXPECT_TRUE(r.ok()) << r.status();
    agent->session = r.ok() ? r->session : 0;
    return r.ok() ? r->agent_id : "";
  }

  // A job of `kind` on the board.
  void Add(const std::string& id, v1::JobKind kind, const std::string& target) {
    v1::Job job;
    job.set_id(id);
    job.set_set_id("s1");
    job.set_kind(kind);
    job.set_target(target);
    ASSERT_TRUE(board_.Add(job, {}, events_).ok());
  }
  HookJob Hook(const std::string& id, const v1::Hook& hook,
               const std::string& agent) {
    HookJob h{{}, &hook, ""};
    h.job.set_id(id);
    h.job.set_set_id("s1");
    h.job.set_kind(v1::JOB_HOOK);
    h.job.set_target(
        std::string(hook.phase() == v1::Hook::PRE ? "pre" : "post") + "-hook/" +
        hook.name());
    h.job.set_agent_id(agent);
    Add(id, v1::JOB_HOOK, h.job.target());
    return h;
  }
  WindowJob Restore(const std::string& id, const std::string& agent) {
    Add(id, v1::JOB_VOLUME_RESTORE, "core/" + id);
    WindowJob job;
    job.job_id = id;
    job.agent_id = agent;
    job.command.mutable_restore()->set_job_id(id);
    job.disconnected = "agent " + agent + " disconnected before the restore";
    return job;
  }

  static std::map<std::string, v1::Job> ById(const WindowResult& result) {
    std::map<std::string, v1::Job> out;
    for (const v1::Job& j : result.jobs) out[j.id()] = j;
    return out;
  }
  static std::vector<std::string> Ids(const WindowResult& result) {
    std::vector<std::string> out;
    for (const v1::Job& j : result.jobs) out.push_back(j.id());
    return out;
  }

  testing::MemoryCatalog catalog_;
  testing::FakeTimeSource time_;
  AgentRegistry registry_{&catalog_, &time_};
  JobBoard board_{&catalog_, &catalog_, &time_};
  std::shared_ptr<RunEvents> events_ = std::make_shared<RunEvents>();
  QuiesceWindow window_{{&registry_, &board_, &time_}};
  std::vector<std::string> sent_;  // job ids in the order sent
  v1::Hook pre_hook_, post_hook_;
};

TEST_F(QuiesceWindowTest, PreHooksThenEachStageThenPostHooks) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  WindowWork work;
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent), Restore("b", agent)},
                 {Restore("c", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  WindowResult result = window_.Run(work);
  EXPECT_EQ(sent_, (std::vector<std::string>{"pre", "a", "b", "c", "post"}));
  EXPECT_EQ(Ids(result),
            (std::vector<std::string>{"pre", "a", "b", "c", "post"}));
  for (const v1::Job& j : result.jobs) {
    EXPECT_EQ(j.status(), v1::JOB_SUCCEEDED) << j.id() << ": " << j.error();
  }
}

TEST_F(QuiesceWindowTest, BeforeRunsFirstAndAfterLastOutsideTheWindow) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  core.time = &time_;
  core.takes["export"] = std::chrono::seconds(30);
  core.takes["import"] = std::chrono::seconds(30);
  core.takes["a"] = std::chrono::seconds(5);
  WindowWork work;
  work.before = {Restore("export", agent)};
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  work.after = {Restore("import", agent)};
  WindowResult result = window_.Run(work);
  EXPECT_EQ(sent_,
            (std::vector<std::string>{"export", "pre", "a", "post", "import"}));
  EXPECT_EQ(Ids(result), sent_);
  // DX was stopped only while the stage ran.
  EXPECT_EQ(result.seconds, 5);
}

TEST_F(QuiesceWindowTest, AfterIsNotRunWhenThePostHooksAreHeld) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  WindowWork work;
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  work.hold_post = "not run: restore wpsdb by hand first";
  work.after = {Restore("import", agent)};
  std::map<std::string, v1::Job> jobs = ById(window_.Run(work));
  EXPECT_EQ(sent_, (std::vector<std::string>{"pre", "a"}));
  EXPECT_EQ(jobs["import"].status(), v1::JOB_FAILED);
  EXPECT_EQ(jobs["import"].error(), "not run: restore wpsdb by hand first");
}

// A review found `after` ran when a post-hook had failed: DX may not be
// up, and xmlaccess then fails with a confusing error.
TEST_F(QuiesceWindowTest, AfterIsNotRunWhenAPostHookFailed) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  core.fails["post"] = "startServer.sh exited with status 1";
  WindowWork work;
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  work.after = {Restore("import", agent)};
  std::map<std::string, v1::Job> jobs = ById(window_.Run(work));
  EXPECT_EQ(sent_, (std::vector<std::string>{"pre", "a", "post"}));
  EXPECT_EQ(jobs["import"].status(), v1::JOB_FAILED);
  EXPECT_NE(jobs["import"].error().find("post-hook/start-core failed"),
            std::string::npos)
      << jobs["import"].error();
}

TEST_F(QuiesceWindowTest, AFailedScaleDownStopsNothingButScalesBack) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  std::vector<std::string> own;
  auto own_job = [&](const std::string& id, bool ok) {
    Add(id, v1::JOB_SCALE, "k8s/" + id);
    WindowJob job;
    job.job_id = id;
    job.run = [this, &own, id, ok] {
      own.push_back(id);
      board_.Finish(
          id, ok ? absl::OkStatus() : absl::PermissionDeniedError("forbidden"));
    };
    return job;
  };
  WindowWork work;
  work.scale_down = {own_job("scale-down", false)};
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  work.scale_up = {own_job("scale-up", true)};
  work.after = {Restore("import", agent)};
  WindowResult result = window_.Run(work);
  EXPECT_TRUE(sent_.empty()) << "no hook, capture or import was sent";
  EXPECT_EQ(own, (std::vector<std::string>{"scale-down", "scale-up"}));
  EXPECT_EQ(Ids(result),
            (std::vector<std::string>{"scale-down", "pre", "a", "post",
                                      "scale-up", "import"}));
  std::map<std::string, v1::Job> jobs = ById(result);
  for (const std::string id : {"pre", "a", "post", "import"}) {
    EXPECT_EQ(jobs[id].status(), v1::JOB_FAILED) << id;
    EXPECT_NE(jobs[id].error().find("k8s/scale-down failed: forbidden"),
              std::string::npos)
        << id << ": " << jobs[id].error();
  }
  EXPECT_EQ(jobs["scale-up"].status(), v1::JOB_SUCCEEDED);
}

TEST_F(QuiesceWindowTest, ScaleDownAndUpFrameTheHooks) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  std::vector<std::string> order;
  auto own_job = [&](const std::string& id) {
    Add(id, v1::JOB_SCALE, "k8s/" + id);
    WindowJob job;
    job.job_id = id;
    job.run = [this, &order, id] {
      order.insert(order.end(), sent_.begin(), sent_.end());
      sent_.clear();
      order.push_back(id);
      board_.Finish(id, absl::OkStatus());
    };
    return job;
  };
  WindowWork work;
  work.before = {Restore("export", agent)};
  work.scale_down = {own_job("scale-down")};
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  work.scale_up = {own_job("scale-up")};
  work.after = {Restore("import", agent)};
  window_.Run(work);
  order.insert(order.end(), sent_.begin(), sent_.end());
  EXPECT_EQ(order, (std::vector<std::string>{"export", "scale-down", "pre", "a",
                                             "post", "scale-up", "import"}));
}

TEST_F(QuiesceWindowTest, AfterIsNotRunWhenAPreHookBlockedTheWork) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  core.fails["pre"] = "exit status 1";
  WindowWork work;
  work.before = {Restore("export", agent)};
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  work.after = {Restore("import", agent)};
  std::map<std::string, v1::Job> jobs = ById(window_.Run(work));
  EXPECT_EQ(sent_, (std::vector<std::string>{"export", "pre", "post"}));
  EXPECT_EQ(jobs["import"].status(), v1::JOB_FAILED);
  EXPECT_NE(jobs["import"].error().find("pre-hook/stop-core failed"),
            std::string::npos)
      << jobs["import"].error();
}

TEST_F(QuiesceWindowTest, HeldPostHooksAreNotRunOnceTheWorkRan) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  WindowWork work;
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  work.hold_post = "not run: restore wpsdb by hand first";
  WindowResult result = window_.Run(work);
  EXPECT_EQ(sent_, (std::vector<std::string>{"pre", "a"}));
  std::map<std::string, v1::Job> jobs = ById(result);
  EXPECT_EQ(jobs["a"].status(), v1::JOB_SUCCEEDED);
  EXPECT_EQ(jobs["post"].status(), v1::JOB_FAILED);
  EXPECT_EQ(jobs["post"].error(), "not run: restore wpsdb by hand first");
}

TEST_F(QuiesceWindowTest, HeldPostHooksStillRunWhenAPreHookBlockedTheWork) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  core.fails["pre"] = "exit status 1";
  WindowWork work;
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  work.hold_post = "not run: restore wpsdb by hand first";
  WindowResult result = window_.Run(work);
  // Nothing was restored: what the pre-hook stopped is started again.
  EXPECT_EQ(sent_, (std::vector<std::string>{"pre", "post"}));
  EXPECT_EQ(ById(result)["post"].status(), v1::JOB_SUCCEEDED);
}

TEST_F(QuiesceWindowTest, AFailedPreHookSkipsTheWorkButNotThePostHooks) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  core.fails["pre"] = "exit status 1";
  WindowWork work;
  work.pre = {Hook("pre", pre_hook_, agent)};
  bool ran = false;
  WindowJob own;
  own.job_id = "dump";
  own.run = [&] { ran = true; };
  Add("dump", v1::JOB_DATABASE_BACKUP, "db/dxmediadb");
  work.stages = {{Restore("a", agent), own}};
  work.post = {Hook("post", post_hook_, agent)};
  WindowResult result = window_.Run(work);
  EXPECT_EQ(sent_, (std::vector<std::string>{"pre", "post"}));
  EXPECT_FALSE(ran);
  std::map<std::string, v1::Job> jobs = ById(result);
  EXPECT_EQ(jobs["a"].status(), v1::JOB_FAILED);
  EXPECT_EQ(jobs["a"].error(),
            "skipped: pre-hook/stop-core failed: exit status 1");
  EXPECT_EQ(jobs["dump"].error(), jobs["a"].error());
  EXPECT_EQ(jobs["post"].status(), v1::JOB_SUCCEEDED);
}

TEST_F(QuiesceWindowTest, AFailedStageSkipsTheLaterOnesWhenTheyNeedIt) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  core.fails["a"] = "psql exited with status 3";
  for (const bool need : {false, true}) {
    sent_.clear();
    WindowWork work;
    work.stages_need_previous = need;
    work.stages = {{Restore("a", agent)}, {Restore("b", agent)}};
    work.post = {Hook("post", post_hook_, agent)};
    std::map<std::string, v1::Job> jobs = ById(window_.Run(work));
    EXPECT_EQ(jobs["a"].status(), v1::JOB_FAILED);
    if (need) {
      EXPECT_EQ(sent_, (std::vector<std::string>{"a", "post"}));
      EXPECT_EQ(jobs["b"].status(), v1::JOB_FAILED);
      EXPECT_EQ(jobs["b"].error(), "not run: core/a failed before it");
    } else {
      EXPECT_EQ(sent_, (std::vector<std::string>{"a", "b", "post"}));
      EXPECT_EQ(jobs["b"].status(), v1::JOB_SUCCEEDED) << jobs["b"].error();
    }
    EXPECT_EQ(jobs["post"].status(), v1::JOB_SUCCEEDED);
  }
}

TEST_F(QuiesceWindowTest, APreHookThatMayFailSkipsNothing) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  core.fails["pre"] = "exit status 1";
  pre_hook_.set_on_failure(v1::Hook::CONTINUE);
  WindowWork work;
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  WindowResult result = window_.Run(work);
  EXPECT_EQ(sent_, (std::vector<std::string>{"pre", "a"}));
  EXPECT_EQ(ById(result)["a"].status(), v1::JOB_SUCCEEDED);
}

TEST_F(QuiesceWindowTest, AJobOfADisconnectedAgentFailsWithItsReason) {
  WindowWork work;
  work.stages = {{Restore("a", "dx/prod/dx-core-9")}};
  WindowResult result = window_.Run(work);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(ById(result)["a"].error(),
            "agent dx/prod/dx-core-9 disconnected before the restore");
}

TEST_F(QuiesceWindowTest, AJobThatMustFailIsNeverSent) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  WindowJob offline = Restore("a", agent);
  offline.fail = "agent dx/prod/dx-core-0 is offline";
  WindowWork work;
  work.stages = {{offline}};
  WindowResult result = window_.Run(work);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(ById(result)["a"].error(), "agent dx/prod/dx-core-0 is offline");
}

// Cancelled while a stage runs: the agent's running job fails CANCELLED and
// its agent is told to stop it; the scheduler's own job fails and its
// commands die (its thread is bound to the job's Cancellation); the later
// stage is not started, the post-hook runs, `after` does not.
TEST_F(QuiesceWindowTest, ACancelFailsTheWorkTellsTheAgentAndRunsThePostHook) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  core.silent.insert("a");
  common::Cancellation cancel;
  WindowWork work;
  work.cancel = &cancel;
  work.pre = {Hook("pre", pre_hook_, agent)};
  Add("dump", v1::JOB_DATABASE_BACKUP, "db/jcr");
  WindowJob dump;
  dump.job_id = "dump";
  std::string dump_saw;
  dump.run = [this, &cancel, &dump_saw] {
    board_.MarkRunning("dump", "scheduler");
    cancel.Cancel("cancelled by ann");  // while it runs
    dump_saw = common::Cancellation::Current() != nullptr
                   ? common::Cancellation::Current()->why()
                   : "no cancellation bound";
  };
  work.stages = {{Restore("a", agent), dump}, {Restore("b", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  work.after = {Restore("import", agent)};
  std::map<std::string, v1::Job> jobs = ById(window_.Run(work));
  EXPECT_EQ(sent_, (std::vector<std::string>{"pre", "a", "post"}));
  EXPECT_EQ(core.cancelled, std::vector<std::string>{"a"});
  EXPECT_EQ(dump_saw, "cancelled by ann");  // what kills its pg_dump
  for (const char* id : {"a", "dump", "b", "import"}) {
    EXPECT_EQ(jobs[id].status(), v1::JOB_FAILED) << id;
    EXPECT_EQ(jobs[id].error_code(), "CANCELLED") << id;
    EXPECT_EQ(jobs[id].error(), "cancelled by ann") << id;
  }
  EXPECT_EQ(jobs["pre"].status(), v1::JOB_SUCCEEDED);
  EXPECT_EQ(jobs["post"].status(), v1::JOB_SUCCEEDED);
}

// A review found an own job waiting its turn started after the cancel had
// ended it (a restore of Kubernetes objects applied them all the same).
TEST_F(QuiesceWindowTest, AnOwnJobWaitingItsTurnNeverStartsOnceCancelled) {
  common::Cancellation cancel;
  Add("first", v1::JOB_DATABASE_RESTORE, "db/one");
  Add("second", v1::JOB_OBJECTS_RESTORE, "k8s/objects");
  bool second_ran = false;
  WindowJob first, second;
  first.job_id = "first";
  first.run = [this, &cancel] {
    board_.MarkRunning("first", "scheduler");
    cancel.Cancel("cancelled by ann");
  };
  second.job_id = "second";
  second.run = [&second_ran] { second_ran = true; };
  WindowWork work;
  work.cancel = &cancel;
  work.own_jobs_at_once = 1;
  work.stages = {{first, second}};
  WindowResult result = window_.Run(work);
  EXPECT_FALSE(second_ran);
  EXPECT_EQ(ById(result)["second"].error_code(), "CANCELLED");
  EXPECT_TRUE(result.cancelled);
}

// Cancelled once the work is done (during the post-hooks): nothing ended
// CANCELLED, so the run is not counted as cancelled.
TEST_F(QuiesceWindowTest, ACancelDuringThePostHooksStopsNothing) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  common::Cancellation cancel;
  WindowWork work;
  work.cancel = &cancel;
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  HookJob post = Hook("post", post_hook_, agent);
  work.post = {post};
  core.on_send["post"] = [&cancel] { cancel.Cancel("cancelled by ann"); };
  WindowResult result = window_.Run(work);
  EXPECT_EQ(sent_, (std::vector<std::string>{"pre", "a", "post"}));
  EXPECT_FALSE(result.cancelled);
  for (const v1::Job& j : result.jobs) {
    EXPECT_EQ(j.status(), v1::JOB_SUCCEEDED) << j.id();
  }
}

// Cancelled before the window: nothing was stopped, so no hook runs.
TEST_F(QuiesceWindowTest, ACancelBeforeThePreHooksRunsNoHook) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  common::Cancellation cancel;
  cancel.Cancel("cancelled by ann");
  WindowWork work;
  work.cancel = &cancel;
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  std::map<std::string, v1::Job> jobs = ById(window_.Run(work));
  EXPECT_TRUE(sent_.empty());
  EXPECT_TRUE(core.cancelled.empty());  // never sent, nothing to stop
  for (const char* id : {"pre", "a", "post"}) {
    EXPECT_EQ(jobs[id].error_code(), "CANCELLED") << id;
  }
}

TEST_F(QuiesceWindowTest, TheSchedulersOwnJobsRunOnTheirOwnThreads) {
  Add("dump1", v1::JOB_DATABASE_BACKUP, "db/one");
  Add("dump2", v1::JOB_DATABASE_BACKUP, "db/two");
  const std::thread::id window_thread = std::this_thread::get_id();
  std::vector<WindowJob> stage;
  for (const std::string id : {"dump1", "dump2"}) {
    WindowJob job;
    job.job_id = id;
    job.run = [this, id, window_thread] {
      EXPECT_NE(std::this_thread::get_id(), window_thread);
      board_.MarkRunning(id, "scheduler");
      board_.Finish(id, id == "dump1" ? absl::OkStatus()
                                      : absl::InternalError("pg_dump failed"));
    };
    stage.push_back(std::move(job));
  }
  WindowWork work;
  work.stages = {stage};
  std::map<std::string, v1::Job> jobs = ById(window_.Run(work));
  EXPECT_EQ(jobs["dump1"].status(), v1::JOB_SUCCEEDED);
  EXPECT_EQ(jobs["dump2"].error(), "pg_dump failed");
}

// Six database jobs, four at a time: each waits until four run or all
// have started, so that an unbounded window would be seen running six.
TEST_F(QuiesceWindowTest, TheSchedulersOwnJobsRunAFewAtATime) {
  std::mutex mu;
  std::condition_variable changed;
  int running = 0, started = 0, most = 0;
  std::vector<WindowJob> stage;
  for (int i = 0; i < 6; ++i) {
    const std::string id = "dump" + std::to_string(i);
    Add(id, v1::JOB_DATABASE_BACKUP, "db/" + id);
    WindowJob job;
    job.job_id = id;
    job.run = [&, id] {
      std::unique_lock<std::mutex> lock(mu);
      most = std::max(most, ++running);
      ++started;
      changed.notify_all();
      // A bound only so that a broken window fails instead of hanging.
      EXPECT_TRUE(changed.wait_for(lock, std::chrono::seconds(60), [&] {
        return running == kOwnJobsAtOnce || started == 6;
      })) << id;
      --running;
      board_.Finish(id, absl::OkStatus());
    };
    stage.push_back(std::move(job));
  }
  WindowWork work;
  work.stages = {stage};
  EXPECT_EQ(work.own_jobs_at_once, kOwnJobsAtOnce);
  for (const v1::Job& j : window_.Run(work).jobs) {
    EXPECT_EQ(j.status(), v1::JOB_SUCCEEDED) << j.id();
  }
  EXPECT_EQ(started, 6);
  EXPECT_EQ(most, kOwnJobsAtOnce);
}

TEST_F(QuiesceWindowTest, MeasuresFromTheFirstPreHookToTheLastPostHook) {
  ScriptedAgent core;
  const std::string agent = Connect("dx-core-0", &core);
  core.time = &time_;
  core.takes["pre"] = std::chrono::seconds(20);
  core.takes["a"] = std::chrono::seconds(100);
  core.takes["post"] = std::chrono::seconds(5);
  WindowWork work;
  work.pre = {Hook("pre", pre_hook_, agent)};
  work.stages = {{Restore("a", agent)}};
  work.post = {Hook("post", post_hook_, agent)};
  EXPECT_EQ(window_.Run(work).seconds, 125);
}

TEST_F(QuiesceWindowTest, AHookWaitsUpToItsTimeoutForItsAgentToComeBack) {
  pre_hook_.set_timeout_seconds(10);
  const std::string agent = "dx/prod/dx-core-0";  // restarting: not here
  WindowWork work;
  work.pre = {Hook("pre", pre_hook_, agent)};
  WindowResult result;
  std::thread window([&] { result = window_.Run(work); });
  ASSERT_TRUE(time_.AwaitWaiters(1)) << "not waiting for the agent";
  for (int second = 1; second <= 3; ++second) {
    ASSERT_TRUE(time_.AwaitWaiters(1, time_.Advance(std::chrono::seconds(1))));
  }
  ScriptedAgent core;
  ASSERT_EQ(Connect("dx-core-0", &core), agent);
  time_.Advance(std::chrono::seconds(1));  // the window looks again
  window.join();
  EXPECT_EQ(sent_, std::vector<std::string>{"pre"});
  EXPECT_EQ(ById(result)["pre"].status(), v1::JOB_SUCCEEDED);
}

TEST_F(QuiesceWindowTest, AHookWhoseAgentStaysAwayFailsAfterItsTimeout) {
  post_hook_.set_timeout_seconds(3);
  WindowWork work;
  work.post = {Hook("post", post_hook_, "dx/prod/dx-core-0")};
  WindowResult result;
  std::thread window([&] { result = window_.Run(work); });
  ASSERT_TRUE(time_.AwaitWaiters(1));
  ASSERT_TRUE(time_.AwaitWaiters(1, time_.Advance(std::chrono::seconds(1))));
  ASSERT_TRUE(time_.AwaitWaiters(1, time_.Advance(std::chrono::seconds(1))));
  time_.Advance(std::chrono::seconds(1));  // 3 s: gives up
  window.join();
  const v1::Job post = ById(result)["post"];
  EXPECT_EQ(post.status(), v1::JOB_FAILED);
  EXPECT_EQ(post.error_code(), "UNAVAILABLE");
  EXPECT_EQ(post.error(),
            "agent dx/prod/dx-core-0 was not connected to run the hook");
  EXPECT_TRUE(sent_.empty());
}

TEST(QuiesceWarningTest, WarnsAboveEightyPercentOfTheLimit) {
  v1::SchedulerConfig config;
  config.set_quiesce_limit_seconds(100);
  EXPECT_EQ(QuiesceWarning(80, config), "");
  EXPECT_EQ(QuiesceWarning(81, config),
            "the quiesce window took 81 s, near the 100 s limit: DX's "
            "liveness probe restarts a stopped core container after about 3 "
            "minutes; capture less or faster");
}

TEST(QuiesceWarningTest, TheLimitIs150SecondsUnlessConfigured) {
  v1::SchedulerConfig config;
  EXPECT_EQ(QuiesceWarning(120, config), "");
  EXPECT_NE(QuiesceWarning(121, config), "");
}

}  // namespace
}  // namespace dxbackup::scheduler
