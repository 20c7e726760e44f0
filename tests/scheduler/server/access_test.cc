// Who may call what, over real gRPC on loopback: every admin RPC for each
// kind of caller (none, an unknown token, viewer, operator, agent), the
// agent protocol bound to the token's namespace (an agent of namespace A
// asking for B's job is refused), and tokens rotated without a restart.
#include <google/protobuf/descriptor.h>

#include <filesystem>

#include "tests/scheduler/server/access_fixture.h"

namespace dxbackup::scheduler {
namespace {

TEST_F(AccessTest, EveryAdminRpcForEveryKindOfCaller) {
  const std::map<std::string, bool> operator_only = {
      {"ListAgents", false},   {"ListSets", false},  {"GetSet", false},
      {"ListPolicies", false}, {"FindFiles", false}, {"ListFiles", false},
      {"Backup", true},        {"Restore", true},    {"RunPolicy", true},
      {"Prune", true},         {"Verify", true},     {"Export", true},
      {"ForgetAgent", true},   {"GetJob", false},    {"DeleteSet", true},
      {"Cancel", true},        {"Drill", true},      {"ListReplicas", false}};
  // A new RPC is in the table, or this fails: none goes unchecked.
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "dxbackup.v1.AdminService");
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_EQ(operator_only.count(service->method(i)->name()), 1u)
        << service->method(i)->name() << " is not in the table";
  }
  for (const auto& [rpc, needs_operator] : operator_only) {
    EXPECT_EQ(AdminCall(rpc, ""), Code::UNAUTHENTICATED) << rpc;
    EXPECT_EQ(AdminCall(rpc, "guessed"), Code::UNAUTHENTICATED) << rpc;
    EXPECT_EQ(AdminCall(rpc, "agent-a-secret"), Code::PERMISSION_DENIED)
        << rpc << ": agents have no admin rights";
    const Code viewer = AdminCall(rpc, "viewer-secret");
    if (needs_operator) {
      EXPECT_EQ(viewer, Code::PERMISSION_DENIED) << rpc;
    } else {
      EXPECT_TRUE(Allowed(viewer)) << rpc << ": " << viewer;
    }
    EXPECT_TRUE(Allowed(AdminCall(rpc, "operator-secret"))) << rpc;
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
  server_->board()->MarkRunning("set-b.1", "ns-b/rb/b-0");

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
  EXPECT_TRUE(Allowed(download("agent-b-secret")));
  EXPECT_TRUE(Allowed(base_index("agent-b-secret")));
  EXPECT_TRUE(Allowed(upload("agent-b-secret")));
  b_stream->TryCancel();
}

TEST_F(AccessTest, TokensRotateWithoutARestart) {
  EXPECT_TRUE(Allowed(AdminCall("ListSets", "viewer-secret")));
  WriteTokens("rotated-viewer-secret");
  EXPECT_EQ(AdminCall("ListSets", "viewer-secret"), Code::UNAUTHENTICATED);
  EXPECT_TRUE(Allowed(AdminCall("ListSets", "rotated-viewer-secret")));
}

TEST_F(AccessTest, ABrokenOrMissingTokensFileRefusesEveryCall) {
  EXPECT_TRUE(Allowed(AdminCall("ListSets", "operator-secret")));
  // The operator token is removed and, in the same edit, a line broken.
  testing::WriteFile(dir_ / "tokens.yaml",
                     "tokens:\n" +
                         TokenLine("viewer", "viewer", "viewer-secret") +
                         "  - {name: broken, role: [\n");
  struct timespec times[2] = {{0, UTIME_OMIT}, {++mtime_, 0}};
  utimensat(AT_FDCWD, (dir_ / "tokens.yaml").c_str(), times, 0);
  EXPECT_EQ(AdminCall("ListSets", "operator-secret"), Code::UNAUTHENTICATED)
      << "a revoked token survived a malformed tokens file";
  EXPECT_EQ(AdminCall("ListSets", "viewer-secret"), Code::UNAUTHENTICATED);
  EXPECT_EQ(Connect("agent-a-secret", "ns-a", "r1", "a-0"),
            Code::UNAUTHENTICATED);

  WriteTokens("viewer-secret");  // fixed: the file's tokens work again
  EXPECT_TRUE(Allowed(AdminCall("ListSets", "operator-secret")));

  std::filesystem::remove(dir_ / "tokens.yaml");
  EXPECT_EQ(AdminCall("ListSets", "operator-secret"), Code::UNAUTHENTICATED)
      << "a deleted tokens file must not leave the old tokens in force";
  EXPECT_EQ(Connect("agent-a-secret", "ns-a", "r1", "a-0"),
            Code::UNAUTHENTICATED);
}

TEST_F(AccessTest, DatabaseToIsANameNotAConnectionString) {
  for (const char* to :
       {"host=elsewhere dbname=x", "dbname=x", "postgresql://elsewhere/x",
        "postgres://u:p@elsewhere/x"}) {
    grpc::ClientContext c;
    Authorize(&c, "operator-secret");
    v1::RestoreRequest q;
    q.set_set_id("none");
    q.set_database_to(to);
    auto reader = admin_->Restore(&c, q);
    EXPECT_EQ(Drain<v1::SetEvent>(reader.get()), Code::INVALID_ARGUMENT) << to;
  }
}

}  // namespace
}  // namespace dxbackup::scheduler
