// Liveness on simulated time: an agent that stops sending heartbeats is
// closed at the first tick after heartbeat_seconds × offline_after_heartbeats
// of silence, not a tick earlier.
#include "scheduler/periodic/liveness_task.h"

#include <gtest/gtest.h>

#include <mutex>

#include "tests/scheduler/periodic/periodic_fixture.h"

namespace dxbackup::scheduler {
namespace {

class RecordingChannel : public AgentChannel {
 public:
  bool Send(const v1::SchedulerMessage&) override { return !closed(); }
  void Close(const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

 private:
  mutable std::mutex mu_;
  bool closed_ = false;
};

TEST_F(PeriodicTest, LivenessClosesASilentAgentAtTheRightTick) {
  config_.set_heartbeat_seconds(10);
  config_.set_offline_after_heartbeats(3);  // 30 s of silence allowed
  v1::Hello hello;
  hello.set_namespace_("ns");
  hello.set_release("dx");
  hello.set_pod("core-0");
  hello.set_component("core");
  RecordingChannel beating, silent;
  auto beating_id = registry_->Register(hello, "", &beating);
  hello.set_pod("core-1");
  ASSERT_TRUE(registry_->Register(hello, "", &silent).ok());
  ASSERT_TRUE(beating_id.ok());
  LivenessTask liveness(config_, registry_.get());
  ticker_.Register(&liveness);
  StartTicking();
  for (int second = 5; second <= 30; second += 5) {
    Pass(absl::Seconds(5));
    registry_->Touch(beating_id->agent_id);
    EXPECT_FALSE(silent.closed()) << "closed after only " << second << " s";
  }
  Pass(absl::Seconds(5));
  EXPECT_TRUE(silent.closed()) << "still open after 35 s of silence";
  EXPECT_FALSE(beating.closed());
}

}  // namespace
}  // namespace dxbackup::scheduler
