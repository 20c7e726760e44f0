// UploadStream against a real scheduler over loopback gRPC, through a proxy
// that cuts or black-holes the connection at an exact byte: the upload
// resumes from the last acknowledged chunk and the stored artifact is
// whole.
#include "agent/backup/upload_stream.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/time_source.h"
#include "scheduler/agents/upload_session.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/server/scheduler_server.h"
#include "tests/support/backup_job.h"
#include "tests/support/fake_time_source.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::agent {
namespace {

const std::string kJob = testing::kBackupJob.job_id;
const std::string kPath = testing::kBackupJob.path;
constexpr size_t kUploadBytes = 24 << 20;

class UploadStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scheduler::SchedulerServer::Options options;
    options.tls.insecure_loopback = true;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path();
    auto server = scheduler::SchedulerServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_TRUE(testing::AddRunningBackupJob(
                    server_->catalog(), server_->board(), testing::kBackupJob)
                    .ok());
    proxy_ = std::make_unique<testing::TcpProxy>(server_->port());
    // Incompressible, so that bytes on the wire are bytes of the artifact.
    std::mt19937_64 rng(42);
    data_.resize(kUploadBytes);
    for (size_t i = 0; i + 8 <= data_.size(); i += 8) {
      const uint64_t v = rng();
      std::memcpy(&data_[i], &v, 8);
    }
  }

  // A stub on a connection of its own through the proxy, per attempt.
  UploadStream::StubFactory ThroughProxy() {
    const std::string target = "127.0.0.1:" + std::to_string(proxy_->port());
    return [target] {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      return v1::AgentService::NewStub(grpc::CreateCustomChannel(
          target, grpc::InsecureChannelCredentials(), args));
    };
  }

  static UploadStream::Options FastRetries() {
    UploadStream::Options options;
    options.backoff_initial = std::chrono::milliseconds(10);
    options.backoff_max = std::chrono::milliseconds(50);
    return options;
  }

  absl::StatusOr<v1::UploadResult> Send(UploadStream* up) {
    for (size_t at = 0; at < data_.size(); at += 100000) {
      absl::Status s = up->Write(data_.data() + at,
                                 std::min<size_t>(100000, data_.size() - at));
      if (!s.ok()) return s;
    }
    return up->Finish(1, "");
  }

  // The connection froze: moves simulated time past the stall timeout
  // until the watchdog cuts (acknowledgements already on their way may
  // restart its timer), then past the writer's backoff (it waits beside
  // the watchdog), so that it resumes; joins `sender`.
  void CutTheFrozenConnection(UploadStream* up, testing::FakeTimeSource* time,
                              const UploadStream::Options& options,
                              std::thread* sender) {
    proxy_->AwaitFault();
    while (up->stall_cuts() == 0) {
      const uint64_t round =
          time->Advance(options.stall_timeout + std::chrono::milliseconds(1));
      ASSERT_TRUE(time->AwaitWaiters(1, round))
          << "the watchdog stopped waiting";
    }
    ASSERT_TRUE(time->AwaitWaiters(2));
    time->Advance(options.backoff_max);
    sender->join();
  }

  std::string Digest() const {
    common::Sha256 h;
    h.Update(data_);
    return h.HexDigest();
  }

  testing::TempDir dir_;
  common::RealTimeSource clock_;
  std::unique_ptr<scheduler::SchedulerServer> server_;
  std::unique_ptr<testing::TcpProxy> proxy_;
  std::string data_;
};

// A chunk sent for its index alone holds what data there is, not the
// 1 MiB buffer it was filled in (it did: a window of such chunks then held
// many times the memory it counted); a full chunk takes the buffer whole.
TEST(TakeChunkDataTest, AChunkHoldsItsBytesNotTheBuffersCapacity) {
  std::string buffer;
  buffer.reserve(kChunkBytes);
  buffer.assign(100, 'x');
  v1::UploadChunk chunk;
  TakeChunkData(&buffer, &chunk);
  EXPECT_EQ(chunk.data(), std::string(100, 'x'));
  EXPECT_LT(chunk.SpaceUsedLong(), size_t{64} << 10);
  EXPECT_TRUE(buffer.empty());
  EXPECT_GE(buffer.capacity(), kChunkBytes) << "kept for the next chunk";

  buffer.assign(kChunkBytes, 'y');
  const char* bytes = buffer.data();
  v1::UploadChunk full;
  TakeChunkData(&buffer, &full);
  EXPECT_EQ(full.data().data(), bytes) << "moved, not copied";
  EXPECT_TRUE(buffer.empty());
}

// The scheduler writes index entries to the catalog in batches of many
// chunks: every entry arrives exactly once, across a connection cut inside
// the first batch, two whole batches and a last, partial one.
v1::UploadChunk ChunkOfEntries(int entries) {
  v1::UploadChunk chunk;
  chunk.set_job_id("job-1");
  chunk.set_sequence(7);
  chunk.set_data("some archive bytes");
  for (int i = 0; i < entries; ++i) {
    v1::FileEntry* e = chunk.add_entries();
    e->set_path(
        absl::StrCat("PortalServer/config/cells/c", i / 100, "/f", i, ".xml"));
    e->set_type("file");
    e->set_size(1000 + i);
    e->set_mode(0644);
    e->set_mtime_unix(1700000000 + i);
    e->set_inode(100000 + i);
    e->set_uid(1000);
    e->set_gid(1000);
  }
  return chunk;
}

// A kept chunk's entries are what a volume of small files fills the window
// with: packed, they take far less memory than as objects, and a chunk sent
// again after a cut is the chunk first sent.
TEST(PackEntriesTest, PackedEntriesAreSmallAndUnpackIntoTheSameChunk) {
  const v1::UploadChunk original = ChunkOfEntries(kMaxPendingEntries);
  v1::UploadChunk kept = original;
  std::string packed;
  PackEntries(&kept, &packed);
  EXPECT_EQ(kept.entries_size(), 0);
  EXPECT_EQ(kept.data(), original.data());
  EXPECT_LT(packed.capacity() * 3, original.SpaceUsedLong());
  EXPECT_EQ(UnpackEntries(kept, packed).SerializeAsString(),
            original.SerializeAsString());

  v1::UploadChunk data_only;
  data_only.set_data("bytes");
  PackEntries(&data_only, &packed);
  EXPECT_TRUE(packed.empty());
  EXPECT_EQ(UnpackEntries(data_only, packed).SerializeAsString(),
            data_only.SerializeAsString());
}

// While the scheduler acknowledges nothing, a volume of small files fills
// the window with index entries: at most window_entry_bytes of them (one
// chunk's worth over), not the whole window.
TEST_F(UploadStreamTest, KeptIndexEntriesStayWithinTheirOwnBound) {
  proxy_->Fault(testing::TcpProxy::kFreeze, 1 << 20);
  testing::FakeTimeSource time;
  UploadStream::Options options = FastRetries();
  options.time = &time;
  options.window_entry_bytes = 256 << 10;
  UploadStream up(ThroughProxy(), kJob, options, nullptr);
  const int entries = 200000;
  absl::StatusOr<v1::UploadResult> result;
  std::thread sender([&] {
    const v1::UploadChunk names = ChunkOfEntries(1000);
    for (int i = 0; i < entries; ++i) {
      v1::FileEntry entry = names.entries(i % 1000);
      entry.set_path(absl::StrCat(i / 1000, "/", entry.path()));
      absl::Status s = up.OnEntry(entry);
      if (!s.ok()) {
        result = s;
        return;
      }
    }
    result = up.Finish(entries, "");
  });
  ASSERT_NO_FATAL_FAILURE(CutTheFrozenConnection(&up, &time, options, &sender));
  ASSERT_TRUE(result.ok()) << result.status();
  std::string one_chunk;
  v1::UploadChunk full = ChunkOfEntries(kMaxPendingEntries);
  PackEntries(&full, &one_chunk);
  EXPECT_GT(up.peak_kept_entry_bytes(), 0u);
  EXPECT_LE(up.peak_kept_entry_bytes(),
            options.window_entry_bytes + one_chunk.capacity());
  int rows = 0;
  v1::ListFilesRequest request;
  request.set_set_id(testing::kBackupJob.set_id);
  ASSERT_TRUE(server_->catalog()
                  ->ForEachFile(request,
                                [&](const v1::IndexedFile&) {
                                  ++rows;
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(rows, entries);
}

TEST_F(UploadStreamTest, EveryIndexEntryIsIndexedOnceAcrossBatchesAndCuts) {
  const int entries = 2 * scheduler::kIndexBatchEntries + 1234;
  proxy_->Fault(testing::TcpProxy::kCut, 3 << 20);
  UploadStream up(ThroughProxy(), kJob, FastRetries(), nullptr);
  for (int i = 0; i < entries; ++i) {
    v1::FileEntry entry;
    entry.set_path(absl::StrCat("d", i / 1000, "/f", i % 1000));
    entry.set_type("file");
    ASSERT_TRUE(up.OnEntry(entry).ok());
    ASSERT_TRUE(up.Write(data_.data() + i * 200, 200).ok());
  }
  absl::StatusOr<v1::UploadResult> result = up.Finish(entries, "");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(proxy_->fault_fired());
  std::set<std::string> paths;
  int rows = 0;
  v1::ListFilesRequest request;
  request.set_set_id(testing::kBackupJob.set_id);
  ASSERT_TRUE(server_->catalog()
                  ->ForEachFile(request,
                                [&](const v1::IndexedFile& f) {
                                  ++rows;
                                  paths.insert(f.entry().path());
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(rows, entries);
  EXPECT_EQ(paths.size(), static_cast<size_t>(entries));
}

TEST_F(UploadStreamTest, CutConnectionResumesFromTheLastAcknowledgedChunk) {
  const uint64_t cut_at = 16 << 20;
  proxy_->Fault(testing::TcpProxy::kCut, cut_at);
  UploadStream up(ThroughProxy(), kJob, FastRetries(), nullptr);
  absl::StatusOr<v1::UploadResult> result = Send(&up);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(proxy_->fault_fired());
  EXPECT_EQ(up.resumes(), 1);
  EXPECT_EQ(result->sha256(), Digest());
  EXPECT_EQ(testing::ReadFile(dir_ / (std::string("store/") + kPath)), data_);
  // Starting over would have sent the cut 16 MiB and then all 24 again;
  // resuming sends again at most the window of unacknowledged chunks.
  EXPECT_LT(proxy_->upstream_bytes(),
            kUploadBytes + UploadStream::Options().window_bytes + (2 << 20));
  auto jobs = server_->board()->WaitAndRemove({kJob});
  EXPECT_EQ(jobs[0].status(), v1::JOB_SUCCEEDED);
}

// Driven by simulated time: nothing but the test's Advance() can make the
// watchdog cut, so it cuts exactly once, after the freeze, however slow the
// machine.
TEST_F(UploadStreamTest, StalledConnectionIsCutAndRetried) {
  proxy_->Fault(testing::TcpProxy::kFreeze, 8 << 20);
  testing::FakeTimeSource time;
  UploadStream::Options options = FastRetries();
  options.time = &time;
  UploadStream up(ThroughProxy(), kJob, options, nullptr);
  absl::StatusOr<v1::UploadResult> result;
  std::thread sender([&] { result = Send(&up); });
  ASSERT_NO_FATAL_FAILURE(CutTheFrozenConnection(&up, &time, options, &sender));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(up.stall_cuts(), 1);
  EXPECT_EQ(up.resumes(), 1);
  EXPECT_EQ(result->sha256(), Digest());
  EXPECT_EQ(testing::ReadFile(dir_ / (std::string("store/") + kPath)), data_);
}

// Without simulated time moving, a frozen connection is never cut: the
// watchdog reads the time it was given, not the machine's.
TEST_F(UploadStreamTest, WatchdogReadsTheTimeSourceItWasGiven) {
  proxy_->Fault(testing::TcpProxy::kFreeze, 8 << 20);
  testing::FakeTimeSource time;
  UploadStream::Options options = FastRetries();
  options.time = &time;
  options.stall_timeout = std::chrono::milliseconds(1);
  UploadStream up(ThroughProxy(), kJob, options, nullptr);
  absl::StatusOr<v1::UploadResult> result;
  std::thread sender([&] { result = Send(&up); });
  proxy_->AwaitFault();
  // The window fills and the writer blocks; the watchdog waits for time.
  ASSERT_TRUE(time.AwaitWaiters(1));
  EXPECT_EQ(up.stall_cuts(), 0);
  up.Cancel();
  sender.join();
  EXPECT_EQ(up.stall_cuts(), 0);
  EXPECT_FALSE(result.ok());
}

TEST_F(UploadStreamTest, GivesUpWhenTheSchedulerStaysUnreachable) {
  proxy_->Fault(testing::TcpProxy::kCut, 4 << 20);
  proxy_->RefuseNew(false);
  UploadStream::Options options = FastRetries();
  options.max_attempts = 3;
  UploadStream up(ThroughProxy(), kJob, options, [&](uint64_t bytes) {
    if (bytes >= (2 << 20)) proxy_->RefuseNew(true);  // then the cut comes
  });
  absl::StatusOr<v1::UploadResult> result = Send(&up);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("gave up after 3 attempts"),
            std::string::npos)
      << result.status();
  // The scheduler still holds the job open for a later resume; the agent
  // reports the failure on its control stream, which ends the job.
  EXPECT_TRUE(server_->board()->IsRunning(kJob));
}

TEST_F(UploadStreamTest, RefusalIsNotRetried) {
  server_->board()->Finish(kJob, absl::CancelledError("the set was cancelled"));
  UploadStream up(ThroughProxy(), kJob, FastRetries(), nullptr);
  absl::StatusOr<v1::UploadResult> result = Send(&up);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition)
      << result.status();
  EXPECT_EQ(up.resumes(), 0);
  EXPECT_EQ(proxy_->connections(), 1);
}

}  // namespace
}  // namespace dxbackup::agent
