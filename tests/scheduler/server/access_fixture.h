// AccessTest runs a real scheduler with a tokens file on loopback, for tests
// of who may call what: viewer, operator and agent tokens (namespace ns-a,
// ns-b, and ns-a bound to release r2), an admin stub and an agent stub, and
// AgentClient, an agent's control stream driven by hand. Deployment ns-b/rb
// has a pre-hook and a post-hook for its core agents.
#ifndef DXBACKUP_TESTS_SCHEDULER_SERVER_ACCESS_FIXTURE_H_
#define DXBACKUP_TESTS_SCHEDULER_SERVER_ACCESS_FIXTURE_H_

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/time_source.h"
#include "dxbackup/v1/admin.grpc.pb.h"
#include "dxbackup/v1/agent.grpc.pb.h"
#include "scheduler/access/token_auth.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/server/scheduler_server.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {

// One agent's control stream, driven by the test. Welcomed (or refused) by
// the constructor; `code()` is OK when the scheduler welcomed it.
class AgentClient {
 public:
  AgentClient(v1::AgentService::Stub* stub, const std::string& token,
              const v1::Hello& hello) {
    if (!token.empty()) {
      context_.AddMetadata("authorization", "Bearer " + token);
    }
    stream_ = stub->Connect(&context_);
    v1::AgentMessage m;
    *m.mutable_hello() = hello;
    stream_->Write(m);
    v1::SchedulerMessage welcome;
    if (stream_->Read(&welcome) && welcome.has_welcome()) {
      agent_id_ = welcome.welcome().agent_id();
    } else {
      code_ = stream_->Finish().error_code();
      ended_ = true;
    }
  }
  ~AgentClient() {
    if (!ended_) {
      context_.TryCancel();
      stream_->Finish();
    }
  }

  grpc::StatusCode code() const { return code_; }
  const std::string& agent_id() const { return agent_id_; }

  // The next command; false when the stream ended.
  bool Next(v1::SchedulerMessage* command) { return stream_->Read(command); }
  bool Send(const v1::AgentMessage& message) { return stream_->Write(message); }
  void SendResult(const std::string& job_id, bool ok,
                  const std::string& error = "") {
    v1::AgentMessage m;
    m.mutable_result()->set_job_id(job_id);
    m.mutable_result()->set_ok(ok);
    m.mutable_result()->set_error(error);
    Send(m);
  }
  // Ends the stream from this side and waits for the scheduler's end, by
  // which time it has handled every message sent before.
  grpc::StatusCode Close() {
    stream_->WritesDone();
    v1::SchedulerMessage ignored;
    while (stream_->Read(&ignored)) {
    }
    ended_ = true;
    return stream_->Finish().error_code();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::AgentMessage, v1::SchedulerMessage>>
      stream_;
  std::string agent_id_;
  grpc::StatusCode code_ = grpc::StatusCode::OK;
  bool ended_ = false;
};

inline v1::Hello MakeHello(const std::string& ns, const std::string& release,
                           const std::string& pod,
                           const std::string& component = "core") {
  v1::Hello hello;
  hello.set_namespace_(ns);
  hello.set_release(release);
  hello.set_pod(pod);
  hello.set_component(component);
  return hello;
}

using Code = grpc::StatusCode;

inline std::string TokenLine(const std::string& name, const std::string& role,
                             const std::string& token,
                             const std::string& ns = "",
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
    v1::Deployment* b = options.config.add_deployments();
    b->set_namespace_("ns-b");
    b->set_release("rb");
    for (const char* phase : {"pre", "post"}) {
      v1::Hook* hook = b->add_hooks();
      hook->set_name(std::string(phase) + "-hook");
      hook->set_component("core");
      hook->set_phase(std::string(phase) == "pre" ? v1::Hook::PRE
                                                  : v1::Hook::POST);
      hook->add_command("true");
    }
    Configure(&options.config);
    auto server = SchedulerServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    admin_ = v1::AdminService::NewStub(channel);
    agent_ = v1::AgentService::NewStub(channel);
  }

  // A test's own changes to the scheduler's config, before it starts.
  virtual void Configure(v1::SchedulerConfig* config) {}

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
    if (rpc == "ForgetAgent") {
      v1::ForgetAgentRequest q;
      q.set_agent_id("ns-a/r1/none");
      v1::ForgetAgentResponse r;
      return admin_->ForgetAgent(&c, q, &r).error_code();
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
    if (rpc == "ListReplicas") {
      v1::ListReplicasResponse r;
      return admin_->ListReplicas(&c, {}, &r).error_code();
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
    if (rpc == "GetJob") {
      v1::GetJobRequest q;
      q.set_job_id("none");
      v1::Job r;
      return admin_->GetJob(&c, q, &r).error_code();
    }
    if (rpc == "DeleteSet") {
      v1::DeleteSetRequest q;
      q.set_set_id("none");
      v1::DeleteSetResponse r;
      return admin_->DeleteSet(&c, q, &r).error_code();
    }
    if (rpc == "Cancel") {
      v1::CancelRequest q;
      q.set_id("none");
      v1::CancelResponse r;
      return admin_->Cancel(&c, q, &r).error_code();
    }
    if (rpc == "Drill") {
      v1::DrillRequest q;
      q.set_set_id("none");
      v1::DrillResponse r;
      return admin_->Drill(&c, q, &r).error_code();
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
  common::RealTimeSource clock_;
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

inline bool Denied(Code code) {
  return code == Code::UNAUTHENTICATED || code == Code::PERMISSION_DENIED;
}

// The call got past the access checks and the service answered it: a
// result or an error of the request itself — not a transport failure
// (UNAVAILABLE, CANCELLED, ...), which says nothing about access.
inline bool Allowed(Code code) {
  switch (code) {
    case Code::OK:
    case Code::NOT_FOUND:
    case Code::INVALID_ARGUMENT:
    case Code::FAILED_PRECONDITION:
    case Code::ALREADY_EXISTS:
    case Code::OUT_OF_RANGE:
    case Code::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_TESTS_SCHEDULER_SERVER_ACCESS_FIXTURE_H_
