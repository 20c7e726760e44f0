// The Upload RPC over real gRPC on loopback: an artifact is stored and
// recorded only when every chunk arrived in order and the digest matches.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/sha256.h"
#include "dxbackup/v1/agent.grpc.pb.h"
#include "scheduler/job_board.h"
#include "scheduler/scheduler_server.h"
#include "scheduler/sqlite_catalog.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

constexpr char kSet[] = "20261128T000000Z-0001";
constexpr char kJob[] = "20261128T000000Z-0001.1";
constexpr char kPath[] = "ns/dx/20261128T000000Z-0001/core-profile.tar.zst";

std::string Digest(const std::string& s) {
  common::Sha256 h;
  h.Update(s);
  return h.HexDigest();
}

class UploadServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SchedulerServer::Options options;
    options.tls.insecure_loopback = true;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path();
    auto server = SchedulerServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    v1::BackupSet set;
    set.set_id(kSet);
    set.set_namespace_("ns");
    set.set_release("dx");
    set.set_status(v1::SET_RUNNING);
    ASSERT_TRUE(server_->catalog()->CreateSet(set).ok());
    v1::Job job;
    job.set_id(kJob);
    job.set_set_id(kSet);
    job.set_kind(v1::JOB_VOLUME_BACKUP);
    job.set_target("core/profile");
    v1::Artifact artifact;
    artifact.set_set_id(kSet);
    artifact.set_target("core/profile");
    artifact.set_kind(v1::ARTIFACT_VOLUME_TAR);
    artifact.set_path(kPath);
    ASSERT_TRUE(server_->board()->Add(job, artifact, nullptr).ok());
    server_->board()->MarkRunning(kJob, "ns/pod-0");
    stub_ = v1::AgentService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  // Sends `pieces` as chunks, the last with a trailer claiming `digest`.
  grpc::Status Upload(const std::vector<std::string>& pieces,
                      const std::string& digest, const std::string& job = kJob,
                      uint64_t skip_sequence_at = UINT64_MAX) {
    grpc::ClientContext context;
    v1::UploadResult result;
    auto writer = stub_->Upload(&context, &result);
    uint64_t bytes = 0, sequence = 0;
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (sequence == skip_sequence_at) ++sequence;
      v1::UploadChunk chunk;
      chunk.set_job_id(job);
      chunk.set_sequence(sequence++);
      chunk.set_data(pieces[i]);
      bytes += pieces[i].size();
      if (i + 1 == pieces.size()) {
        chunk.mutable_trailer()->set_bytes(bytes);
        chunk.mutable_trailer()->set_files(1);
        chunk.mutable_trailer()->set_sha256(digest);
      }
      if (!writer->Write(chunk)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  bool StoreHasFiles() {
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(dir_ / "store")) {
      if (e.is_regular_file()) return true;
    }
    return false;
  }

  testing::TempDir dir_;
  common::SystemClock clock_;
  std::unique_ptr<SchedulerServer> server_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
};

TEST_F(UploadServiceTest, MatchingDigestIsStoredAndRecorded) {
  grpc::Status st = Upload({"hello ", "world"}, Digest("hello world"));
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto artifacts = server_->catalog()->ListArtifacts(kSet);
  ASSERT_EQ(artifacts->size(), 1u);
  EXPECT_EQ((*artifacts)[0].sha256(), Digest("hello world"));
  EXPECT_EQ(testing::ReadFile(dir_ / (std::string("store/") + kPath)),
            "hello world");
  EXPECT_FALSE(server_->board()->IsRunning(kJob));
}

TEST_F(UploadServiceTest, DigestMismatchIsRejectedAndNothingStored) {
  grpc::Status st = Upload({"hello ", "world"}, Digest("hello wörld"));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_NE(st.error_message().find("digest mismatch"), std::string::npos)
      << st.error_message();
  EXPECT_TRUE(server_->catalog()->ListArtifacts(kSet)->empty());
  EXPECT_FALSE(StoreHasFiles());
  auto jobs = server_->board()->WaitAndRemove({kJob});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].status(), v1::JOB_FAILED);
  EXPECT_NE(jobs[0].error().find("digest mismatch"), std::string::npos);
}

TEST_F(UploadServiceTest, MissingChunkIsRejected) {
  grpc::Status st = Upload({"a", "b", "c"}, Digest("abc"), kJob, 1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(server_->catalog()->ListArtifacts(kSet)->empty());
  EXPECT_FALSE(StoreHasFiles());
}

TEST_F(UploadServiceTest, UnknownJobIsRefused) {
  grpc::Status st = Upload({"x"}, Digest("x"), "no-such-job");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(server_->board()->IsRunning(kJob)) << "other jobs untouched";
}

TEST_F(UploadServiceTest, UploadAfterTheJobFailedIsRefused) {
  server_->board()->Finish(kJob, false, "agent gone");
  grpc::Status st = Upload({"x"}, Digest("x"));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_FALSE(StoreHasFiles());
}

}  // namespace
}  // namespace dxbackup::scheduler
