// Who may call what, over real gRPC on loopback: every admin RPC for each
// kind of caller (none, an unknown token, viewer, operator, agent), the
// agent protocol bound to the token's namespace (an agent of namespace A
// asking for B's job is refused), and tokens rotated without a restart.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <map>

#include "dxbackup/v1/admin.grpc.pb.h"
#include "dxbackup/v1/agent.grpc.pb.h"
#include "scheduler/job_board.h"
#include "scheduler/scheduler_server.h"
#include "scheduler/sqlite_catalog.h"
#include "scheduler/token_auth.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

using Code = grpc::StatusCode;

std::string TokenLine(const std::string& name, const std::string& role,
                      const std::string& token, const std::string& ns = "",
                      const std::string& release = "") {
  return "  - {name: " + name + ", role: " + role +
         ", sha256: " + TokenDigest(token) +
         (ns.empty() ? "" : ", namespace: " + ns) +
         (release.empty() ? "" : ", release: " + release) + "}\n";
}

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteTokens("viewer-secret");
    SchedulerServer::Options options;
    options.tls.insecure_loopback = true;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_ / "data";
    options.config.set_tokens_file(dir_ / "tokens.yaml");
    auto server = SchedulerServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    admin_ = v1::AdminService::NewStub(channel);
    agent_ = v1::AgentService::NewStub(channel);
  }

  void WriteTokens(const std::string& viewer_token) {
    testing::WriteFile(
        dir_ / "tokens.yaml",
        "tokens:\n" + TokenLine("viewer", "viewer", viewer_token) +
            TokenLine("ops", "operator", "operator-secret") +
            TokenLine("agents-a", "agent", "agent-a-secret", "ns-a") +
            TokenLine("agents-b", "agent", "agent-b-secret", "ns-b") +
            TokenLine("agents-a-r2", "agent", "agent-a-r2-secret", "ns-a",
                      "r2"));
    // A distinct mtime, whatever the clock's resolution.
    struct timespec times[2] = {{0, UTIME_OMIT}, {++mtime_, 0}};
    utimensat(AT_FDCWD, (dir_ / "tokens.yaml").c_str(), times, 0);
  }

  static void Authorize(grpc::ClientContext* context,
                        const std::string& token) {
    if (!token.empty())
      context->AddMetadata("authorization", "Bearer " + token);
  }

  // The status of `rpc` called with `token`.
  Code AdminCall(const std::string& rpc, const std::string& token) {
    grpc::ClientContext c;
    Authorize(&c, token);
    if (rpc == "ListAgents") {
      v1::ListAgentsResponse r;
      return admin_->ListAgents(&c, {}, &r).error_code();
    }
    if (rpc == "ListSets") {
      v1::ListSetsResponse r;
      return admin_->ListSets(&c, {}, &r).error_code();
    }
    if (rpc == "GetSet") {
      v1::GetSetRequest q;
      q.set_set_id("none");
      v1::SetDetail r;
      return admin_->GetSet(&c, q, &r).error_code();
    }
    if (rpc == "ListPolicies") {
      v1::ListPoliciesResponse r;
      return admin_->ListPolicies(&c, {}, &r).error_code();
    }
    if (rpc == "FindFiles") {
      v1::FindFilesRequest q;
      q.set_pattern("*.xml");
      v1::FindFilesResponse r;
      return admin_->FindFiles(&c, q, &r).error_code();
    }
    if (rpc == "ListFiles") {
      v1::ListFilesRequest q;
      q.set_set_id("none");
      auto reader = admin_->ListFiles(&c, q);
      v1::FileBatch b;
      while (reader->Read(&b)) {
      }
      return reader->Finish().error_code();
    }
    if (rpc == "Backup" || rpc == "Restore" || rpc == "RunPolicy") {
      std::unique_ptr<grpc::ClientReaderInterface<v1::SetEvent>> reader;
      if (rpc == "Backup") {
        v1::BackupRequest q;
        q.set_namespace_("nowhere");
        q.set_release("none");
        reader = admin_->Backup(&c, q);
      } else if (rpc == "Restore") {
        v1::RestoreRequest q;
        q.set_set_id("none");
        reader = admin_->Restore(&c, q);
      } else {
        v1::RunPolicyRequest q;
        q.set_policy("none");
        reader = admin_->RunPolicy(&c, q);
      }
      v1::SetEvent e;
      while (reader->Read(&e)) {
      }
      return reader->Finish().error_code();
    }
    if (rpc == "Prune") {
      v1::PruneRequest q;
      q.set_dry_run(true);
      v1::PruneResponse r;
      return admin_->Prune(&c, q, &r).error_code();
    }
    if (rpc == "Verify") {
      v1::VerifyRequest q;
      q.set_set_id("none");
      v1::VerifyResponse r;
      return admin_->Verify(&c, q, &r).error_code();
    }
    if (rpc == "Export") {
      v1::ExportRequest q;
      q.set_set_id("none");
      q.set_to_dir(dir_ / "exports");
      v1::ExportResponse r;
      return admin_->Export(&c, q, &r).error_code();
    }
    ADD_FAILURE() << "no such RPC " << rpc;
    return Code::UNKNOWN;
  }

  // Opens an agent's control stream; returns the code it ended with, or OK
  // if the scheduler welcomed it (then `stream` stays open).
  Code Connect(const std::string& token, const std::string& ns,
               const std::string& release, const std::string& pod,
               std::unique_ptr<grpc::ClientContext>* context = nullptr) {
    auto c = std::make_unique<grpc::ClientContext>();
    Authorize(c.get(), token);
    auto stream = agent_->Connect(c.get());
    v1::AgentMessage hello;
    hello.mutable_hello()->set_namespace_(ns);
    hello.mutable_hello()->set_release(release);
    hello.mutable_hello()->set_pod(pod);
    hello.mutable_hello()->set_component("core");
    stream->Write(hello);
    v1::SchedulerMessage welcome;
    if (stream->Read(&welcome) && welcome.has_welcome()) {
      if (context != nullptr) {
        streams_.push_back(std::move(stream));
        *context = std::move(c);
      } else {
        c->TryCancel();
        stream->Finish();
      }
      return Code::OK;
    }
    return stream->Finish().error_code();
  }

  testing::TempDir dir_;
  long mtime_ = 1700000000;
  common::SystemClock clock_;
  std::unique_ptr<SchedulerServer> server_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::AgentService::Stub> agent_;
  std::vector<std::unique_ptr<
      grpc::ClientReaderWriter<v1::AgentMessage, v1::SchedulerMessage>>>
      streams_;
};

// Reads a call's responses to the end; its status code.
template <typename Message, typename Reader>
Code Drain(Reader* reader) {
  Message m;
  while (reader->Read(&m)) {
  }
  return reader->Finish().error_code();
}

bool Denied(Code code) {
  return code == Code::UNAUTHENTICATED || code == Code::PERMISSION_DENIED;
}

TEST_F(AccessTest, EveryAdminRpcForEveryKindOfCaller) {
  const std::map<std::string, bool> operator_only = {
      {"ListAgents", false},   {"ListSets", false},  {"GetSet", false},
      {"ListPolicies", false}, {"FindFiles", false}, {"ListFiles", false},
      {"Backup", true},        {"Restore", true},    {"RunPolicy", true},
      {"Prune", true},         {"Verify", true},     {"Export", true}};
  for (const auto& [rpc, needs_operator] : operator_only) {
    EXPECT_EQ(AdminCall(rpc, ""), Code::UNAUTHENTICATED) << rpc;
    EXPECT_EQ(AdminCall(rpc, "guessed"), Code::UNAUTHENTICATED) << rpc;
    EXPECT_EQ(AdminCall(rpc, "agent-a-secret"), Code::PERMISSION_DENIED)
        << rpc << ": agents have no admin rights";
    const Code viewer = AdminCall(rpc, "viewer-secret");
    if (needs_operator) {
      EXPECT_EQ(viewer, Code::PERMISSION_DENIED) << rpc;
    } else {
      EXPECT_FALSE(Denied(viewer)) << rpc << ": " << viewer;
    }
    EXPECT_FALSE(Denied(AdminCall(rpc, "operator-secret"))) << rpc;
  }
}

TEST_F(AccessTest, AgentsActOnlyInTheirNamespace) {
  EXPECT_EQ(Connect("", "ns-a", "r1", "a-0"), Code::UNAUTHENTICATED);
  EXPECT_EQ(Connect("operator-secret", "ns-a", "r1", "a-0"),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(Connect("agent-b-secret", "ns-a", "r1", "a-0"),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(Connect("agent-a-r2-secret", "ns-a", "r1", "a-0"),
            Code::PERMISSION_DENIED)
      << "a release-bound token serves only that release";
  EXPECT_EQ(Connect("agent-a-r2-secret", "ns-a", "r2", "a-1"), Code::OK);
  EXPECT_EQ(Connect("agent-a-secret", "ns-a", "r1", "a-0"), Code::OK);

  // A job of namespace B's agent: A's token reaches none of its data.
  std::unique_ptr<grpc::ClientContext> b_stream;
  ASSERT_EQ(Connect("agent-b-secret", "ns-b", "rb", "b-0", &b_stream),
            Code::OK);
  v1::BackupSet set;
  set.set_id("set-b");
  set.set_namespace_("ns-b");
  set.set_release("rb");
  set.set_status(v1::SET_RUNNING);
  ASSERT_TRUE(server_->catalog()->CreateSet(set).ok());
  v1::Job job;
  job.set_id("set-b.1");
  job.set_set_id("set-b");
  job.set_kind(v1::JOB_VOLUME_RESTORE);
  job.set_target("core/data");
  ASSERT_TRUE(server_->board()->Add(job, {}, nullptr).ok());
  server_->board()->MarkRunning("set-b.1", "ns-b/b-0");

  auto download = [&](const std::string& token) {
    grpc::ClientContext c;
    Authorize(&c, token);
    v1::DownloadRequest q;
    q.set_job_id("set-b.1");
    return Drain<v1::DownloadChunk>(agent_->Download(&c, q).get());
  };
  auto base_index = [&](const std::string& token) {
    grpc::ClientContext c;
    Authorize(&c, token);
    v1::BaseIndexRequest q;
    q.set_job_id("set-b.1");
    return Drain<v1::BaseIndexChunk>(agent_->BaseIndex(&c, q).get());
  };
  auto upload = [&](const std::string& token) {
    grpc::ClientContext c;
    Authorize(&c, token);
    auto stream = agent_->Upload(&c);
    v1::UploadChunk chunk;
    chunk.set_job_id("set-b.1");
    chunk.set_data("bytes");
    stream->Write(chunk);
    stream->WritesDone();
    return Drain<v1::UploadReply>(stream.get());
  };
  EXPECT_EQ(download("agent-a-secret"), Code::PERMISSION_DENIED);
  EXPECT_EQ(base_index("agent-a-secret"), Code::PERMISSION_DENIED);
  EXPECT_EQ(upload("agent-a-secret"), Code::PERMISSION_DENIED);
  EXPECT_EQ(download("operator-secret"), Code::PERMISSION_DENIED);
  EXPECT_EQ(download(""), Code::UNAUTHENTICATED);
  // B's own token passes the check (the job has nothing stored: no data).
  EXPECT_FALSE(Denied(download("agent-b-secret")));
  EXPECT_FALSE(Denied(base_index("agent-b-secret")));
  EXPECT_FALSE(Denied(upload("agent-b-secret")));
  b_stream->TryCancel();
}

TEST_F(AccessTest, TokensRotateWithoutARestart) {
  EXPECT_FALSE(Denied(AdminCall("ListSets", "viewer-secret")));
  WriteTokens("rotated-viewer-secret");
  EXPECT_EQ(AdminCall("ListSets", "viewer-secret"), Code::UNAUTHENTICATED);
  EXPECT_FALSE(Denied(AdminCall("ListSets", "rotated-viewer-secret")));
}

}  // namespace
}  // namespace dxbackup::scheduler
