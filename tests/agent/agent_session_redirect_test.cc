// An agent sent on by the scheduler replica it reached: replica A, whose
// router says another replica (B) runs the agent's deployment, ends the
// agent's stream with B's address (common/replica_redirect.h); the real
// AgentSession dials B at once, registers there and never at A, and its
// uploads go to B too: a set B takes completes. The CLI asked at A to back
// that deployment up is sent on to B likewise, and follows. Two real
// schedulers in process, real gRPC over loopback.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "agent/agent_session.h"
#include "common/replica_redirect.h"
#include "common/scheduler_dialer.h"
#include "dxbackup/v1/admin.grpc.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/catalog.h"
#include "scheduler/replicas/deployment_router.h"
#include "scheduler/server/scheduler_server.h"
#include "tests/support/temp_dir.h"
#include "tools/cli/cli_commands.h"

namespace dxbackup::agent {
namespace {

// A router that says which deployments run elsewhere, and where.
class FixedRouter : public scheduler::DeploymentRouter {
 public:
  explicit FixedRouter(std::map<std::string, std::string> elsewhere)
      : elsewhere_(std::move(elsewhere)) {}
  absl::StatusOr<std::string> Route(const std::string& namespace_,
                                    const std::string& release) override {
    auto it = elsewhere_.find(namespace_ + "/" + release);
    return it == elsewhere_.end() ? std::string() : it->second;
  }

 private:
  const std::map<std::string, std::string> elsewhere_;
};

class AgentSessionRedirectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b_ = Start("b", nullptr);
    ASSERT_NE(b_, nullptr);
    router_ = std::make_unique<FixedRouter>(
        std::map<std::string, std::string>{{"ns/dx", Address(*b_)}});
    a_ = Start("a", router_.get());
    ASSERT_NE(a_, nullptr);
  }
  void TearDown() override {
    if (session_ != nullptr) session_->Stop();
    if (runner_.joinable()) runner_.join();
  }

  std::unique_ptr<scheduler::SchedulerServer> Start(
      const std::string& name, scheduler::DeploymentRouter* router) {
    scheduler::SchedulerServer::Options options;
    options.tls.insecure_loopback = true;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_ / name;
    options.router = router;
    auto server =
        scheduler::SchedulerServer::Start(options, &common::RealTime());
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }
  static std::string Address(const scheduler::SchedulerServer& server) {
    return "127.0.0.1:" + std::to_string(server.port());
  }

  // A real agent session for ns/dx whose configured address is A's.
  void StartAgent() {
    common::TlsFlags tls;
    tls.insecure_loopback = true;
    auto dialer = common::SchedulerDialer::Create(Address(*a_), tls,
                                                  grpc::ChannelArguments(), "");
    ASSERT_TRUE(dialer.ok()) << dialer.status();
    dialer_ = std::make_unique<common::SchedulerDialer>(*std::move(dialer));
    testing::WriteFile(dir_ / "volume/profile.xml", "<profile/>");
    testing::WriteFile(dir_ / "volume/data.bin", std::string(100000, 'x'));
    AgentIdentity identity;
    identity.namespace_ = "ns";
    identity.release = "dx";
    identity.pod = "dx-core-0";
    identity.component = "core";
    v1::Volume volume;
    volume.set_name("profile");
    volume.set_path(dir_ / "volume");
    identity.volumes.push_back(volume);
    session_ = std::make_unique<AgentSession>(
        identity, BackupJobSettings(),
        [this](const std::string& replica, bool data) {
          return dialer_->Dial(replica, data);
        });
    runner_ = std::thread([this] { session_->Run(); });
  }

  testing::TempDir dir_;
  std::unique_ptr<scheduler::SchedulerServer> a_, b_;
  std::unique_ptr<FixedRouter> router_;
  std::unique_ptr<common::SchedulerDialer> dialer_;
  std::unique_ptr<AgentSession> session_;
  std::thread runner_;
};

TEST_F(AgentSessionRedirectTest, AReplicaSendsTheAgentToTheOneThatRunsIt) {
  // The protocol: A ends the stream UNAVAILABLE, with B's address.
  auto stub = v1::AgentService::NewStub(
      grpc::CreateChannel(Address(*a_), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->Connect(&context);
  v1::AgentMessage hello;
  hello.mutable_hello()->set_namespace_("ns");
  hello.mutable_hello()->set_release("dx");
  hello.mutable_hello()->set_pod("dx-core-9");
  hello.mutable_hello()->set_component("core");
  ASSERT_TRUE(stream->Write(hello));
  v1::SchedulerMessage reply;
  EXPECT_FALSE(stream->Read(&reply));
  const grpc::Status ended = stream->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(ended.error_message().find("ns/dx is run by the scheduler replica "
                                       "at " +
                                       Address(*b_)),
            std::string::npos)
      << ended.error_message();
  EXPECT_EQ(common::OwnerAddressOf(context), Address(*b_));
}

TEST_F(AgentSessionRedirectTest, TheAgentRegistersAndUploadsWhereItWasSent) {
  StartAgent();
  ASSERT_TRUE(b_->registry()->AwaitConnected("ns/dx/dx-core-0",
                                             std::chrono::seconds(60)));
  auto stub = v1::AdminService::NewStub(
      grpc::CreateChannel(Address(*b_), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::BackupRequest request;
  request.set_namespace_("ns");
  request.set_release("dx");
  auto events = stub->Backup(&context, request);
  v1::SetEvent event, done;
  while (events->Read(&event)) {
    if (event.done()) done = event;
  }
  ASSERT_TRUE(events->Finish().ok());
  ASSERT_TRUE(done.done());
  EXPECT_TRUE(done.ok()) << done.message();
  EXPECT_EQ(done.set().status(), v1::SET_COMPLETE) << done.set().reason();
  auto artifacts = b_->catalog()->ListArtifacts(done.set().id());
  ASSERT_TRUE(artifacts.ok()) << artifacts.status();
  ASSERT_EQ(artifacts->size(), 1u);
  EXPECT_GT(artifacts->front().bytes(), 0);
  // A never had the agent.
  auto at_a = a_->catalog()->ListAgents();
  ASSERT_TRUE(at_a.ok());
  EXPECT_TRUE(at_a->empty());
}

TEST_F(AgentSessionRedirectTest, TheCliFollowsToTheReplicaThatRunsIt) {
  StartAgent();
  ASSERT_TRUE(b_->registry()->AwaitConnected("ns/dx/dx-core-0",
                                             std::chrono::seconds(60)));
  auto channel =
      grpc::CreateChannel(Address(*a_), grpc::InsecureChannelCredentials());
  auto stub = v1::AdminService::NewStub(channel);
  v1::BackupRequest request;
  request.set_namespace_("ns");
  request.set_release("dx");

  // A alone cannot back ns/dx up, and says who can.
  std::ostringstream out, err;
  cli::CliContext unrouted{stub.get(), &out, &err};
  EXPECT_NE(cli::Backup(unrouted, request), 0);
  EXPECT_NE(
      err.str().find("is run by the scheduler replica at " + Address(*b_)),
      std::string::npos)
      << err.str();

  // The CLI follows A's answer to B, where the set runs and completes.
  out.str("");
  err.str("");
  cli::CliContext routed{stub.get(), &out, &err};
  std::vector<std::string> dialled;
  routed.stub_at = [&dialled](const std::string& replica) {
    dialled.push_back(replica);
    return std::unique_ptr<v1::AdminService::StubInterface>(
        v1::AdminService::NewStub(
            grpc::CreateChannel(replica, grpc::InsecureChannelCredentials())));
  };
  ASSERT_EQ(cli::Backup(routed, request), 0) << out.str() << err.str();
  EXPECT_EQ(dialled, std::vector<std::string>{Address(*b_)});
  auto sets = b_->catalog()->ListSets({});
  ASSERT_TRUE(sets.ok()) << sets.status();
  ASSERT_EQ(sets->size(), 1u);
  EXPECT_EQ(sets->front().status(), v1::SET_COMPLETE);
  auto at_a = a_->catalog()->ListSets({});
  ASSERT_TRUE(at_a.ok());
  EXPECT_TRUE(at_a->empty());
}

}  // namespace
}  // namespace dxbackup::agent
