// Forgetting gone agents on simulated time: an agent that disconnected is
// forgotten at the first tick after agent_forget_after, a connected one
// never, and listing agents no longer does it.
#include "scheduler/periodic/forget_gone_task.h"

#include <gtest/gtest.h>

#include "tests/scheduler/periodic/periodic_fixture.h"

namespace dxbackup::scheduler {
namespace {

TEST_F(PeriodicTest, ForgetsAnAgentGoneLongerThanForgetAfter) {
  config_.set_agent_forget_after("2h");
  v1::Hello hello;
  hello.set_namespace_("ns");
  hello.set_release("dx");
  hello.set_component("core");
  NullChannel gone_channel, staying_channel;
  hello.set_pod("core-0");
  auto gone = registry_->Register(hello, "", &gone_channel);
  hello.set_pod("core-1");
  ASSERT_TRUE(registry_->Register(hello, "", &staying_channel).ok());
  ASSERT_TRUE(gone.ok());
  ASSERT_TRUE(registry_->Unregister(gone->agent_id, &gone_channel));
  ForgetGoneTask forget(config_, registry_.get());
  ticker_.Register(&forget);
  StartTicking();
  Pass(absl::Hours(2));
  EXPECT_EQ(registry_->AllAgents().size(), 2u) << "forgotten at 2 h exactly";
  Pass(ForgetGoneTask::kEvery);
  const std::vector<v1::AgentInfo> left = registry_->AllAgents();
  ASSERT_EQ(left.size(), 1u) << "not forgotten a minute after 2 h";
  EXPECT_EQ(left[0].pod(), "core-1");
}

TEST_F(PeriodicTest, ByDefaultAnAgentIsForgottenADayAfterItWentAway) {
  // config_ says nothing: agent_forget_after is its default, 1d.
  v1::Hello hello;
  hello.set_namespace_("ns");
  hello.set_release("dx");
  hello.set_component("core");
  NullChannel scaled_down_channel, restarting_channel;
  hello.set_pod("core-2");
  auto scaled_down = registry_->Register(hello, "", &scaled_down_channel);
  ASSERT_TRUE(scaled_down.ok());
  hello.set_pod("core-0");
  auto restarting = registry_->Register(hello, "", &restarting_channel);
  ASSERT_TRUE(restarting.ok());
  ASSERT_TRUE(
      registry_->Unregister(scaled_down->agent_id, &scaled_down_channel));
  ForgetGoneTask forget(config_, registry_.get());
  ticker_.Register(&forget);
  StartTicking();
  Pass(absl::Hours(23));
  ASSERT_TRUE(registry_->Unregister(restarting->agent_id, &restarting_channel));
  Pass(absl::Hours(1) + ForgetGoneTask::kEvery);
  const std::vector<v1::AgentInfo> left = registry_->AllAgents();
  ASSERT_EQ(left.size(), 1u) << "gone a day and a minute: still expected";
  EXPECT_EQ(left[0].pod(), "core-0") << "gone an hour: still expected";
}

}  // namespace
}  // namespace dxbackup::scheduler
