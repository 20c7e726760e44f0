// The Upload RPC over real gRPC on loopback: an artifact is stored and
// recorded only when every chunk arrived in order and the digest matches;
// a broken stream resumes where the scheduler stopped.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/sha256.h"
#include "common/time_source.h"
#include "dxbackup/v1/agent.grpc.pb.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/server/scheduler_server.h"
#include "tests/support/backup_job.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

const std::string kSet = testing::kBackupJob.set_id;
const std::string kJob = testing::kBackupJob.job_id;
const std::string kPath = testing::kBackupJob.path;

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
    ASSERT_TRUE(testing::AddRunningBackupJob(
                    server_->catalog(), server_->board(), testing::kBackupJob)
                    .ok());
    stub_ = v1::AgentService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  using Stream =
      grpc::ClientReaderWriterInterface<v1::UploadChunk, v1::UploadReply>;

  static v1::UploadChunk Chunk(const std::string& job, uint64_t sequence,
                               const std::string& data) {
    v1::UploadChunk chunk;
    chunk.set_job_id(job);
    chunk.set_sequence(sequence);
    chunk.set_data(data);
    return chunk;
  }

  static v1::UploadChunk Last(const std::string& job, uint64_t sequence,
                              const std::string& data, uint64_t total_bytes,
                              const std::string& digest) {
    v1::UploadChunk chunk = Chunk(job, sequence, data);
    chunk.mutable_trailer()->set_bytes(total_bytes);
    chunk.mutable_trailer()->set_files(1);
    chunk.mutable_trailer()->set_sha256(digest);
    return chunk;
  }

  // Ends the writing side and reads every reply; the call's status.
  static grpc::Status Close(Stream* stream, v1::UploadReply* last = nullptr) {
    stream->WritesDone();
    v1::UploadReply reply;
    while (stream->Read(&reply)) {
      if (last != nullptr) *last = reply;
    }
    return stream->Finish();
  }

  // Reads acknowledgements until the scheduler has written `sequence`
  // chunks.
  static void AwaitAck(Stream* stream, uint64_t sequence) {
    v1::UploadReply reply;
    while (reply.next_sequence() < sequence) {
      ASSERT_TRUE(stream->Read(&reply)) << "stream ended before ack";
    }
  }

  // Sends `pieces` as chunks 0, 1, ... and, once they are acknowledged,
  // breaks the connection.
  void BreakAfter(const std::vector<std::string>& pieces) {
    grpc::ClientContext context;
    auto stream = stub_->Upload(&context);
    for (size_t i = 0; i < pieces.size(); ++i) {
      ASSERT_TRUE(stream->Write(Chunk(kJob, i, pieces[i])));
    }
    AwaitAck(stream.get(), pieces.size());
    context.TryCancel();
    stream->Finish();
  }

  // Sends `pieces` as chunks, the last with a trailer claiming `digest`.
  grpc::Status Upload(const std::vector<std::string>& pieces,
                      const std::string& digest, const std::string& job = kJob,
                      uint64_t skip_sequence_at = UINT64_MAX) {
    grpc::ClientContext context;
    auto stream = stub_->Upload(&context);
    uint64_t bytes = 0, sequence = 0;
    for (const std::string& piece : pieces) bytes += piece.size();
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (sequence == skip_sequence_at) ++sequence;
      const v1::UploadChunk chunk =
          i + 1 == pieces.size() ? Last(job, sequence, pieces[i], bytes, digest)
                                 : Chunk(job, sequence, pieces[i]);
      ++sequence;
      if (!stream->Write(chunk)) break;
    }
    return Close(stream.get());
  }

  bool StoreHasFiles() {
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(dir_ / "store")) {
      if (e.is_regular_file()) return true;
    }
    return false;
  }

  testing::TempDir dir_;
  common::RealTimeSource clock_;
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
  server_->board()->Finish(kJob, absl::UnavailableError("agent gone"));
  grpc::Status st = Upload({"x"}, Digest("x"));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_FALSE(StoreHasFiles());
}

TEST_F(UploadServiceTest, BrokenStreamResumesWithoutRewritingChunks) {
  BreakAfter({"aa", "bb"});
  EXPECT_TRUE(server_->board()->IsRunning(kJob)) << "kept for a resume";
  // The agent had no ack for chunk 1 yet: it sends it again.
  grpc::ClientContext second;
  auto stream = stub_->Upload(&second);
  ASSERT_TRUE(stream->Write(Chunk(kJob, 1, "bb")));
  ASSERT_TRUE(stream->Write(Last(kJob, 2, "cc", 6, Digest("aabbcc"))));
  v1::UploadReply last;
  grpc::Status st = Close(stream.get(), &last);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(last.result().sha256(), Digest("aabbcc"));
  EXPECT_EQ(testing::ReadFile(dir_ / (std::string("store/") + kPath)),
            "aabbcc");
  auto jobs = server_->board()->WaitAndRemove({kJob});
  EXPECT_EQ(jobs[0].status(), v1::JOB_SUCCEEDED);
}

TEST_F(UploadServiceTest, ResumeWithAGapIsRefused) {
  BreakAfter({"aa"});
  grpc::ClientContext second;
  auto stream = stub_->Upload(&second);
  stream->Write(Last(kJob, 2, "cc", 4, Digest("aacc")));
  EXPECT_EQ(Close(stream.get()).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(StoreHasFiles());
  auto jobs = server_->board()->WaitAndRemove({kJob});
  EXPECT_EQ(jobs[0].status(), v1::JOB_FAILED);
}

TEST_F(UploadServiceTest, NewerStreamTakesOverAHalfOpenOne) {
  // The first stream is never closed by its client: a black-holed
  // connection the scheduler has not noticed.
  grpc::ClientContext first;
  auto stale = stub_->Upload(&first);
  ASSERT_TRUE(stale->Write(Chunk(kJob, 0, "aa")));
  AwaitAck(stale.get(), 1);
  grpc::ClientContext second;
  auto stream = stub_->Upload(&second);
  ASSERT_TRUE(stream->Write(Last(kJob, 1, "bb", 4, Digest("aabb"))));
  grpc::Status st = Close(stream.get());
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(Close(stale.get()).ok()) << "the stale stream was ended";
  EXPECT_EQ(testing::ReadFile(dir_ / (std::string("store/") + kPath)), "aabb");
}

TEST_F(UploadServiceTest, JobFailingWhileCutRemovesThePartialFile) {
  BreakAfter({"aa"});
  ASSERT_TRUE(StoreHasFiles()) << "the partial file waits for a resume";
  server_->board()->Finish(kJob, absl::UnavailableError("agent gone"));
  EXPECT_FALSE(StoreHasFiles());
  grpc::ClientContext second;
  auto stream = stub_->Upload(&second);
  stream->Write(Last(kJob, 1, "bb", 4, Digest("aabb")));
  EXPECT_EQ(Close(stream.get()).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_FALSE(StoreHasFiles());
}

}  // namespace
}  // namespace dxbackup::scheduler
