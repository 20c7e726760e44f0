// One namespace's agent cannot act for another's: messages about a job are
// taken only from the agent session the job was given to, an agent's
// identity includes its release, and every name in a hello is checked
// before it can become part of a store path. Real gRPC on loopback.
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>

#include "absl/time/clock.h"
#include "tests/scheduler/server/access_fixture.h"

namespace dxbackup::scheduler {
namespace {

// Reads commands until a hook command arrives; its job id, or "".
std::string NextHookJob(AgentClient* agent) {
  v1::SchedulerMessage command;
  while (agent->Next(&command)) {
    if (command.has_hook()) return command.hook().job_id();
  }
  return "";
}

TEST_F(AccessTest, AnotherNamespacesAgentCannotEndOrFeedAJob) {
  AgentClient b(agent_.get(), "agent-b-secret", MakeHello("ns-b", "rb", "b-0"));
  ASSERT_EQ(b.code(), Code::OK);
  AgentClient a(agent_.get(), "agent-a-secret", MakeHello("ns-a", "ra", "a-0"));
  ASSERT_EQ(a.code(), Code::OK);

  grpc::ClientContext c;
  Authorize(&c, "operator-secret");
  v1::BackupRequest request;
  request.set_namespace_("ns-b");
  request.set_release("rb");
  auto set = admin_->Backup(&c, request);

  // B's pre-hook (B's quiesce) is running; A claims it succeeded, and
  // reports progress on it.
  const std::string pre_hook = NextHookJob(&b);
  ASSERT_FALSE(pre_hook.empty());
  v1::AgentMessage progress;
  progress.mutable_progress()->set_job_id(pre_hook);
  progress.mutable_progress()->set_bytes(424242);
  a.Send(progress);
  a.SendResult(pre_hook, true);
  EXPECT_EQ(a.Close(), Code::OK);  // the scheduler has read both

  // B's own report stands: its pre-hook failed, so nothing was captured
  // and the set failed with B's reason. The post-hook still runs.
  b.SendResult(pre_hook, false, "stopServer failed on purpose");
  const std::string post_hook = NextHookJob(&b);
  ASSERT_FALSE(post_hook.empty());
  b.SendResult(post_hook, true);

  v1::SetEvent event, done;
  while (set->Read(&event)) {
    EXPECT_NE(event.job().bytes(), 424242u)
        << "progress from another namespace's agent was applied";
    if (event.done()) done = event;
  }
  ASSERT_TRUE(set->Finish().ok());
  ASSERT_TRUE(done.done());
  EXPECT_FALSE(done.ok()) << done.message();
  EXPECT_EQ(done.set().status(), v1::SET_FAILED);
  EXPECT_NE(done.set().reason().find("stopServer failed on purpose"),
            std::string::npos)
      << done.set().reason();
}

TEST_F(AccessTest, AnAgentOfAnotherReleaseCannotTakeOverAPod) {
  // Release r1's dam pod, registered with the namespace's token.
  AgentClient r1(agent_.get(), "agent-a-secret",
                 MakeHello("ns-a", "r1", "r1-dam-0", "dam"));
  ASSERT_EQ(r1.code(), Code::OK);
  // A token bound to release r2 registers a pod of the same name.
  AgentClient r2(agent_.get(), "agent-a-r2-secret",
                 MakeHello("ns-a", "r2", "r1-dam-0", "dam"));
  ASSERT_EQ(r2.code(), Code::OK);
  EXPECT_NE(r1.agent_id(), r2.agent_id());

  grpc::ClientContext c;
  Authorize(&c, "viewer-secret");
  v1::ListAgentsResponse agents;
  ASSERT_TRUE(admin_->ListAgents(&c, {}, &agents).ok());
  std::map<std::string, std::string> release_of;  // connected agents
  for (const v1::AgentInfo& agent : agents.agents()) {
    if (agent.connected()) release_of[agent.id()] = agent.release();
  }
  EXPECT_EQ(release_of.size(), 2u) << "one agent displaced the other";
  EXPECT_EQ(release_of[r1.agent_id()], "r1");
  EXPECT_EQ(release_of[r2.agent_id()], "r2");
}

TEST_F(AccessTest, OnlyATokenOfTheSameBindingReplacesARegistration) {
  // Registered with the token bound to ns-a/r2 ...
  AgentClient bound(agent_.get(), "agent-a-r2-secret",
                    MakeHello("ns-a", "r2", "r2-core-0"));
  ASSERT_EQ(bound.code(), Code::OK);
  // ... not replaced by a holder of the namespace-wide token,
  AgentClient other(agent_.get(), "agent-a-secret",
                    MakeHello("ns-a", "r2", "r2-core-0"));
  EXPECT_EQ(other.code(), Code::PERMISSION_DENIED);
  // ... but by the same agent reconnecting with its own token.
  AgentClient again(agent_.get(), "agent-a-r2-secret",
                    MakeHello("ns-a", "r2", "r2-core-0"));
  EXPECT_EQ(again.code(), Code::OK);
  EXPECT_EQ(again.agent_id(), bound.agent_id());
}

TEST_F(AccessTest, HelloNamesThatCouldBecomePathsAreRefused) {
  const std::string long_name(64, 'a');  // over a DNS label's 63
  struct Case {
    std::string ns, release, pod, component;
  };
  const std::vector<Case> bad = {
      {"ns-a/../x", "r1", "p-0", "core"},
      {"ns-a", "../r1", "p-0", "core"},
      {"ns-a", "r1", "p/0", "core"},
      {"ns-a", "r1", "..", "core"},
      {"ns-a", "r1", std::string("p\0x", 3), "core"},
      {"ns-a", "r1", long_name, "core"},
      {"ns-a", "R1", "p-0", "core"},
      {"ns-a", "r1", "p-0", "core/../../x"},
      {"ns-a", "r1", "p-0", ""},
  };
  for (const Case& c : bad) {
    AgentClient agent(agent_.get(), "agent-a-secret",
                      MakeHello(c.ns, c.release, c.pod, c.component));
    EXPECT_EQ(agent.code(), Code::INVALID_ARGUMENT)
        << c.ns << " " << c.release << " " << c.pod << " " << c.component;
  }
  for (const char* volume :
       {"x/../../../../escaped/y", "..", ".", "a b", "", "profile\n"}) {
    v1::Hello hello = MakeHello("ns-a", "r1", "p-0");
    hello.add_volumes()->set_name(volume);
    hello.mutable_volumes(0)->set_path("/data");
    AgentClient agent(agent_.get(), "agent-a-secret", hello);
    EXPECT_EQ(agent.code(), Code::INVALID_ARGUMENT) << "volume " << volume;
  }
  v1::Hello good = MakeHello("ns-a", "r1", "r1-core-0");
  good.add_volumes()->set_name("profile");
  good.mutable_volumes(0)->set_path("/opt/HCL/profiles");
  AgentClient agent(agent_.get(), "agent-a-secret", good);
  EXPECT_EQ(agent.code(), Code::OK);
}

TEST_F(AccessTest, ADownloadStopsWhenItsRestoreJobEnds) {
  AgentClient b(agent_.get(), "agent-b-secret", MakeHello("ns-b", "rb", "b-0"));
  ASSERT_EQ(b.code(), Code::OK);
  const std::string rel = "ns-b/rb/set-r/core-data.tar.zst";
  const size_t size = 64 << 20;  // far more than gRPC's flow-control window
  testing::WriteFile(dir_ / ("data/store/" + rel), std::string(size, 'x'));
  v1::BackupSet set;
  set.set_id("set-r");
  set.set_namespace_("ns-b");
  set.set_release("rb");
  set.set_status(v1::SET_COMPLETE);
  ASSERT_TRUE(server_->catalog()->CreateSet(set).ok());
  v1::Job job;
  job.set_id("set-r.1");
  job.set_set_id("set-r");
  job.set_kind(v1::JOB_VOLUME_RESTORE);
  job.set_target("core/data");
  v1::Artifact artifact;
  artifact.set_path(rel);
  artifact.set_bytes(size);
  ASSERT_TRUE(server_->board()->Add(job, artifact, nullptr).ok());
  server_->board()->MarkRunning("set-r.1", b.agent_id());

  grpc::ClientContext c;
  Authorize(&c, "agent-b-secret");
  v1::DownloadRequest q;
  q.set_job_id("set-r.1");
  auto download = agent_->Download(&c, q);
  v1::DownloadChunk chunk;
  ASSERT_TRUE(download->Read(&chunk));
  size_t received = chunk.data().size();
  server_->board()->Finish("set-r.1",
                           absl::CancelledError("the restore run was stopped"));
  while (download->Read(&chunk)) received += chunk.data().size();
  EXPECT_EQ(download->Finish().error_code(), Code::FAILED_PRECONDITION);
  EXPECT_LT(received, size) << "the whole artifact went to an ended job";
}

TEST_F(AccessTest, AStreamWithoutATokenIsRefusedBeforeItSendsAnything) {
  for (const char* token : {"", "guessed", "operator-secret"}) {
    grpc::ClientContext c;
    Authorize(&c, token);
    // Only a guard against hanging if the scheduler waited for a message.
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
    auto stream = agent_->Connect(&c);
    v1::SchedulerMessage m;
    EXPECT_FALSE(stream->Read(&m));
    const Code code = stream->Finish().error_code();
    EXPECT_TRUE(Denied(code)) << "token '" << token << "': " << code;

    grpc::ClientContext u;
    Authorize(&u, token);
    u.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
    auto upload = agent_->Upload(&u);
    v1::UploadReply reply;
    EXPECT_FALSE(upload->Read(&reply));
    EXPECT_TRUE(Denied(upload->Finish().error_code())) << token;
  }
}

class FewStreamsTest : public AccessTest {
 protected:
  void Configure(v1::SchedulerConfig* config) override {
    config->mutable_limits()->set_max_streams_per_caller(3);
  }
};

TEST_F(FewStreamsTest, OneCallerHoldsAtMostItsLimitOfStreams) {
  std::vector<std::unique_ptr<AgentClient>> held;
  for (const char* pod : {"p-0", "p-1", "p-2"}) {
    held.push_back(std::make_unique<AgentClient>(agent_.get(), "agent-a-secret",
                                                 MakeHello("ns-a", "r1", pod)));
    ASSERT_EQ(held.back()->code(), Code::OK) << pod;
  }
  AgentClient fourth(agent_.get(), "agent-a-secret",
                     MakeHello("ns-a", "r1", "p-3"));
  EXPECT_EQ(fourth.code(), Code::RESOURCE_EXHAUSTED);
  // Another caller is not held back by the first one's streams.
  AgentClient other(agent_.get(), "agent-b-secret",
                    MakeHello("ns-b", "rb", "b-0"));
  EXPECT_EQ(other.code(), Code::OK);
}

// An agent row as the registry leaves it when the agent went away.
v1::AgentInfo GoneAgent(const std::string& pod, int64_t last_seen_unix) {
  v1::AgentInfo agent;
  agent.set_id("ns-b/rb/" + pod);
  agent.set_namespace_("ns-b");
  agent.set_release("rb");
  agent.set_pod(pod);
  agent.set_component("core");
  agent.set_last_seen_unix(last_seen_unix);
  return agent;
}

TEST_F(AccessTest, OperatorsForgetAgentsWhosePodsAreGone) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  ASSERT_TRUE(
      server_->catalog()->UpsertAgent(GoneAgent("rb-core-1", now - 60)).ok());
  AgentClient live(agent_.get(), "agent-b-secret",
                   MakeHello("ns-b", "rb", "rb-core-0"));
  ASSERT_EQ(live.code(), Code::OK);
  auto forget = [&](const std::string& id, const std::string& token) {
    grpc::ClientContext c;
    Authorize(&c, token);
    v1::ForgetAgentRequest q;
    q.set_agent_id(id);
    v1::ForgetAgentResponse r;
    return admin_->ForgetAgent(&c, q, &r).error_code();
  };
  EXPECT_EQ(forget("ns-b/rb/rb-core-1", "viewer-secret"),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(forget(live.agent_id(), "operator-secret"),
            Code::FAILED_PRECONDITION)
      << "a connected agent would only register again";
  EXPECT_EQ(forget("ns-b/rb/nobody", "operator-secret"), Code::NOT_FOUND);
  EXPECT_EQ(forget("ns-b/rb/rb-core-1", "operator-secret"), Code::OK);

  // The deployment's next set no longer expects the forgotten pod: with
  // it, the set would fail at once ("agent ... is offline").
  grpc::ClientContext c;
  Authorize(&c, "viewer-secret");
  v1::ListAgentsResponse agents;
  ASSERT_TRUE(admin_->ListAgents(&c, {}, &agents).ok());
  for (const v1::AgentInfo& a : agents.agents()) {
    EXPECT_NE(a.pod(), "rb-core-1");
  }
}

TEST_F(AccessTest, APostHookWaitsForItsAgentToReconnect) {
  v1::Hello hello = MakeHello("ns-b", "rb", "b-0");
  hello.add_volumes()->set_name("data");
  hello.mutable_volumes(0)->set_path("/data");
  auto b = std::make_unique<AgentClient>(agent_.get(), "agent-b-secret", hello);
  ASSERT_EQ(b->code(), Code::OK);
  grpc::ClientContext c;
  Authorize(&c, "operator-secret");
  v1::BackupRequest request;
  request.set_namespace_("ns-b");
  request.set_release("rb");
  auto set = admin_->Backup(&c, request);

  // The pre-hook (the server stopped) succeeds; then, mid-capture, the
  // agent's connection drops.
  const std::string pre_hook = NextHookJob(b.get());
  ASSERT_FALSE(pre_hook.empty());
  b->SendResult(pre_hook, true);
  v1::SchedulerMessage command;
  ASSERT_TRUE(b->Next(&command));
  ASSERT_TRUE(command.has_backup());
  b->Close();
  b.reset();
  // The agent comes back: the post-hook (start the server again) still
  // reaches it, on its new connection.
  AgentClient again(agent_.get(), "agent-b-secret", hello);
  ASSERT_EQ(again.code(), Code::OK);
  const std::string post_hook = NextHookJob(&again);
  ASSERT_FALSE(post_hook.empty()) << "the post-hook never came";
  again.SendResult(post_hook, true);

  v1::SetEvent event, done;
  while (set->Read(&event)) {
    if (event.done()) done = event;
  }
  ASSERT_TRUE(set->Finish().ok());
  EXPECT_EQ(done.set().status(), v1::SET_FAILED) << "the capture was cut";
  EXPECT_NE(done.set().reason().find("core/data"), std::string::npos)
      << done.set().reason();
  EXPECT_EQ(done.set().reason().find("post-hook"), std::string::npos)
      << "the post-hook ran: " << done.set().reason();
}

}  // namespace
}  // namespace dxbackup::scheduler
