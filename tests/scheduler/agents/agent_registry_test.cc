// The liveness rule on simulated time: an agent is closed as offline once
// it has been silent for longer than the allowed silence, not a second
// before, and a heartbeat starts its silence again.
#include "scheduler/agents/agent_registry.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/memory_catalog.h"

namespace dxbackup::scheduler {
namespace {

class RecordingChannel : public AgentChannel {
 public:
  bool Send(const v1::SchedulerMessage&) override { return !closed; }
  void Close(const std::string& why) override {
    closed = true;
    reason = why;
  }
  bool closed = false;
  std::string reason;
};

v1::Hello Hello(const std::string& pod) {
  v1::Hello hello;
  hello.set_namespace_("ns");
  hello.set_release("dx");
  hello.set_pod(pod);
  hello.set_component("core");
  return hello;
}

class AgentLivenessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_unique<AgentRegistry>(&catalog_, &clock_);
  }
  std::string Register(const std::string& pod, RecordingChannel* channel) {
    auto r = registry_->Register(Hello(pod), "", channel);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->agent_id : "";
  }
  void Pass(int seconds) { clock_.now += std::chrono::seconds(seconds); }

  testing::FakeClock clock_;
  testing::MemoryCatalog catalog_;
  std::unique_ptr<AgentRegistry> registry_;
};

TEST_F(AgentLivenessTest, SilentLongerThanAllowedIsClosedWithTheReason) {
  RecordingChannel channel;
  const std::string id = Register("core-0", &channel);
  Pass(20);
  EXPECT_TRUE(registry_->CloseSilent(20).empty());
  EXPECT_FALSE(channel.closed);
  Pass(1);
  EXPECT_EQ(registry_->CloseSilent(20), std::vector<std::string>{id});
  EXPECT_TRUE(channel.closed);
  EXPECT_EQ(channel.reason,
            "agent ns/dx/core-0 went offline: no heartbeat for 21 s");
}

TEST_F(AgentLivenessTest, AHeartbeatStartsTheSilenceAgain) {
  RecordingChannel beating, frozen;
  const std::string beating_id = Register("core-0", &beating);
  const std::string frozen_id = Register("core-1", &frozen);
  for (int second = 1; second <= 60; ++second) {
    Pass(1);
    registry_->Touch(beating_id);
    const std::vector<std::string> closed = registry_->CloseSilent(20);
    if (second <= 20) {
      EXPECT_TRUE(closed.empty()) << "at second " << second;
    } else if (second == 21) {
      EXPECT_EQ(closed, std::vector<std::string>{frozen_id});
    }
  }
  EXPECT_FALSE(beating.closed);
  EXPECT_TRUE(frozen.closed);
}

}  // namespace
}  // namespace dxbackup::scheduler
