// The agent protocol's reactions do not block: the disk work of an upload
// runs on the ReactorWorker's threads, not on gRPC's, so an upload whose
// store write hangs holds up neither other uploads nor the scheduler's
// other calls. And the ReactorWorker itself: order, bound, shutdown.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/sha256.h"
#include "common/time_source.h"
#include "dxbackup/v1/agent.grpc.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/agents/agent_service.h"
#include "scheduler/agents/reactor_worker.h"
#include "scheduler/jobs/job_board.h"
#include "tests/support/backup_job.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/memory_store.h"
#include "tests/support/notification.h"

namespace dxbackup::scheduler {
namespace {

TEST(ReactorWorkerTest, RunsTasksAndRefusesBeyondItsBound) {
  testing::Notification release, running;
  std::atomic<int> ran{0};
  {
    ReactorWorker worker(/*threads=*/1, /*max_queued=*/2);
    ASSERT_TRUE(worker.Post([&] {
      running.Notify();
      release.WaitForNotification();
      ++ran;
    }));
    running.WaitForNotification();  // the one thread is busy
    EXPECT_TRUE(worker.Post([&] { ++ran; }));
    EXPECT_TRUE(worker.Post([&] { ++ran; }));
    EXPECT_FALSE(worker.Post([&] { ++ran; })) << "queue bound not kept";
    release.Notify();
  }  // the destructor runs what was queued
  EXPECT_EQ(ran.load(), 3);
}

TEST(ReactorWorkerTest, TasksRunOnNamedThreads) {
  ReactorWorker worker(2, 8);
  testing::Notification done;
  std::string name;
  ASSERT_TRUE(worker.Post([&] {
    char buffer[16] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof(buffer));
    name = buffer;
    done.Notify();
  }));
  done.WaitForNotification();
  EXPECT_EQ(name, ReactorWorker::kThreadName);
}

// A MemoryStore whose writes to one key wait until the test lets them go.
class HeldStore : public testing::MemoryStore {
 public:
  explicit HeldStore(std::string held_key) : held_key_(std::move(held_key)) {}

  testing::Notification entered;  // a write to the held key began
  testing::Notification release;  // the test lets it go on
  std::string writer_thread;      // the name of the thread that wrote

 protected:
  absl::StatusOr<std::unique_ptr<ObjectSink>> StartObject(
      const std::string& key, int64_t locked_until_unix) override {
    auto sink = MemoryStore::StartObject(key, locked_until_unix);
    if (!sink.ok() || key != held_key_) return sink;
    return std::unique_ptr<ObjectSink>(
        std::make_unique<HeldSink>(this, std::move(*sink)));
  }

 private:
  class HeldSink : public ObjectSink {
   public:
    HeldSink(HeldStore* store, std::unique_ptr<ObjectSink> sink)
        : store_(store), sink_(std::move(sink)) {}
    absl::Status Write(const void* data, size_t size) override {
      if (!store_->entered.HasBeenNotified()) {
        char buffer[16] = {};
        pthread_getname_np(pthread_self(), buffer, sizeof(buffer));
        store_->writer_thread = buffer;
        store_->entered.Notify();
      }
      store_->release.WaitForNotification();
      return sink_->Write(data, size);
    }
    absl::Status Publish() override { return sink_->Publish(); }
    void Discard() override { sink_->Discard(); }

   private:
    HeldStore* store_;
    std::unique_ptr<ObjectSink> sink_;
  };

  const std::string held_key_;
};

std::string ThreadName() {
  char buffer[16] = {};
  pthread_getname_np(pthread_self(), buffer, sizeof(buffer));
  return buffer;
}

// A MemoryCatalog whose recording of agent `held_pod` waits until the test
// lets it go, and that notes which thread recorded agents and jobs.
class HeldCatalog : public testing::MemoryCatalog {
 public:
  absl::Status UpsertAgent(const v1::AgentInfo& agent) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads_.insert(ThreadName());
    }
    if (agent.pod() == held_pod && agent.connected() &&
        !entered.HasBeenNotified()) {
      entered.Notify();
      release.WaitForNotification();
    }
    return MemoryCatalog::UpsertAgent(agent);
  }
  absl::Status UpsertJob(const v1::Job& job) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads_.insert(ThreadName());
    }
    return MemoryCatalog::UpsertJob(job);
  }
  // Forgets the threads noted so far (the test's own, setting up).
  void ForgetThreads() {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.clear();
  }
  // The names of the threads that wrote agents and jobs since.
  std::set<std::string> threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

  std::string held_pod;  // set before any agent connects
  testing::Notification entered, release;

 private:
  std::mutex mu_;
  std::set<std::string> threads_;
};

const testing::BackupJobIds kOtherJob = {
    "20261128T000000Z-0002", "20261128T000000Z-0002.1",
    "ns/dx/20261128T000000Z-0002/core-profile.tar.zst"};

std::string Digest(const std::string& s) {
  common::Sha256 h;
  h.Update(s);
  return h.HexDigest();
}

v1::UploadChunk Chunk(const std::string& job, uint64_t sequence,
                      const std::string& data, bool last) {
  v1::UploadChunk chunk;
  chunk.set_job_id(job);
  chunk.set_sequence(sequence);
  chunk.set_data(data);
  if (last) {
    chunk.mutable_trailer()->set_bytes(data.size());
    chunk.mutable_trailer()->set_files(1);
    chunk.mutable_trailer()->set_sha256(Digest(data));
  }
  return chunk;
}

class NonBlockingReactorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AgentServiceImpl::Parts parts{.config = &config_,
                                  .files = &catalog_,
                                  .store = &store_,
                                  .registry = &registry_,
                                  .board = &board_,
                                  .clock = &clock_};
    service_ = std::make_unique<AgentServiceImpl>(parts);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::AgentService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                            grpc::InsecureChannelCredentials()));
    ASSERT_TRUE(
        testing::AddRunningBackupJob(&catalog_, &board_, testing::kBackupJob)
            .ok());
    ASSERT_TRUE(
        testing::AddRunningBackupJob(&catalog_, &board_, kOtherJob).ok());
  }

  void TearDown() override {
    // Whatever a failed test left held.
    if (!store_.release.HasBeenNotified()) store_.release.Notify();
    if (!catalog_.release.HasBeenNotified()) catalog_.release.Notify();
    if (server_ != nullptr) server_->Shutdown();
    service_.reset();
  }

  v1::SchedulerConfig config_;
  HeldCatalog catalog_;
  HeldStore store_{testing::kBackupJob.path};
  common::RealTimeSource clock_;
  AgentRegistry registry_{&catalog_, &clock_};
  JobBoard board_{&catalog_, &catalog_, &clock_};
  std::unique_ptr<AgentServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
};

TEST_F(NonBlockingReactorTest, AHeldStoreWriteHoldsUpNoOtherCall) {
  // The first upload's first chunk: its write into the store hangs.
  grpc::ClientContext held_context;
  auto held = stub_->Upload(&held_context);
  ASSERT_TRUE(held->Write(
      Chunk(testing::kBackupJob.job_id, 0, "held bytes", /*last=*/true)));
  store_.entered.WaitForNotification();
  EXPECT_EQ(store_.writer_thread, ReactorWorker::kThreadName)
      << "the store was written from a gRPC reaction";

  // Meanwhile another job's upload goes through, start to end...
  {
    grpc::ClientContext context;
    auto other = stub_->Upload(&context);
    ASSERT_TRUE(other->Write(Chunk(kOtherJob.job_id, 0, "other bytes", true)));
    other->WritesDone();
    v1::UploadReply reply, last;
    while (other->Read(&reply)) last = reply;
    grpc::Status status = other->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(last.result().sha256(), Digest("other bytes"));
    EXPECT_TRUE(store_.Open(kOtherJob.path).ok());
  }
  // ... and so does an agent's control stream.
  {
    grpc::ClientContext context;
    auto control = stub_->Connect(&context);
    v1::AgentMessage hello;
    hello.mutable_hello()->set_namespace_("ns");
    hello.mutable_hello()->set_release("dx");
    hello.mutable_hello()->set_pod("pod-1");
    hello.mutable_hello()->set_component("core");
    ASSERT_TRUE(control->Write(hello));
    v1::SchedulerMessage welcome;
    ASSERT_TRUE(control->Read(&welcome));
    EXPECT_EQ(welcome.welcome().agent_id(), "ns/dx/pod-1");
    context.TryCancel();
    control->Finish();
  }
  EXPECT_FALSE(store_.Open(testing::kBackupJob.path).ok())
      << "the held upload cannot have been stored yet";

  // Let go: the held upload completes as usual.
  store_.release.Notify();
  held->WritesDone();
  v1::UploadReply reply, last;
  while (held->Read(&reply)) last = reply;
  grpc::Status status = held->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(last.result().sha256(), Digest("held bytes"));
  EXPECT_TRUE(store_.Open(testing::kBackupJob.path).ok());
}

// An agent's control stream, as far as its welcome.
class Agent {
 public:
  Agent(v1::AgentService::Stub* stub, const std::string& pod)
      : stream_(stub->Connect(&context_)) {
    v1::AgentMessage hello;
    hello.mutable_hello()->set_namespace_("ns");
    hello.mutable_hello()->set_release("dx");
    hello.mutable_hello()->set_pod(pod);
    hello.mutable_hello()->set_component("core");
    EXPECT_TRUE(stream_->Write(hello));
  }
  ~Agent() {
    context_.TryCancel();
    stream_->Finish().IgnoreError();
  }
  std::string AwaitWelcome() {
    v1::SchedulerMessage welcome;
    if (!stream_->Read(&welcome)) return "";
    return welcome.welcome().agent_id();
  }
  bool Write(const v1::AgentMessage& message) {
    return stream_->Write(message);
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::AgentMessage, v1::SchedulerMessage>>
      stream_;
};

TEST_F(NonBlockingReactorTest, AHeldRegistrationHoldsUpNoOtherAgent) {
  catalog_.held_pod = "pod-held";
  catalog_.ForgetThreads();
  Agent held(stub_.get(), "pod-held");
  catalog_.entered.WaitForNotification();  // its registration is writing

  // Another agent registers, is welcomed and sends a heartbeat meanwhile.
  {
    Agent other(stub_.get(), "pod-2");
    ASSERT_EQ(other.AwaitWelcome(), "ns/dx/pod-2");
    v1::AgentMessage beat;
    beat.mutable_heartbeat();
    EXPECT_TRUE(other.Write(beat));
  }
  EXPECT_EQ(catalog_.threads(),
            std::set<std::string>{ReactorWorker::kThreadName})
      << "an agent or a job was recorded from a gRPC reaction";

  catalog_.release.Notify();
  EXPECT_EQ(held.AwaitWelcome(), "ns/dx/pod-held");
}

}  // namespace
}  // namespace dxbackup::scheduler
