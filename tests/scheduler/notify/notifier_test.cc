// Notifications on simulated time: what each situation earns (notices),
// the bodies webhooks get, and the Notifier's delivery rules — retried
// with backoff while a webhook cannot be reached, given up after
// give_up_after, a refusal not retried, each webhook only the events it
// takes, a url_file read at each attempt. The HTTP itself is seen in
// tests/integration/notifications_test.cc.
#include "scheduler/notify/notifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "scheduler/notify/notices.h"
#include "tests/support/fake_time_source.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

v1::BackupSet Set(const std::string& id, v1::SetStatus status) {
  v1::BackupSet set;
  set.set_id(id);
  set.set_namespace_("dx-prod");
  set.set_release("dx");
  set.set_status(status);
  set.set_reason(status == v1::SET_FAILED ? "core/profile: agent gone" : "");
  set.set_finished_unix(1800000000);
  return set;
}

TEST(NoticesTest, AFailedSetAndTheFirstCompleteOneAfterItAreTold) {
  const v1::BackupSet failed = Set("s2", v1::SET_FAILED);
  const v1::BackupSet complete = Set("s3", v1::SET_COMPLETE);
  auto notice = SetEndNotice(failed, nullptr);
  ASSERT_TRUE(notice.has_value());
  EXPECT_EQ(notice->event(), kSetFailed);
  EXPECT_EQ(notice->set_id(), "s2");
  EXPECT_EQ(notice->detail(), "core/profile: agent gone");
  EXPECT_NE(notice->summary().find("dxbackup show s2"), std::string::npos);

  notice = SetEndNotice(complete, &failed);
  ASSERT_TRUE(notice.has_value());
  EXPECT_EQ(notice->event(), kSetRecovered);
  EXPECT_NE(notice->summary().find("after set s2 failed"), std::string::npos);
  // Complete after complete, or a first set: nothing to say.
  EXPECT_FALSE(SetEndNotice(complete, &complete).has_value());
  EXPECT_FALSE(SetEndNotice(complete, nullptr).has_value());
}

TEST(NoticesTest, StaleSaysHowOldAndWhatThePolicyWants) {
  v1::BackupSet newest = Set("s1", v1::SET_COMPLETE);
  const v1::Notice n = StaleNotice("dx-prod", "dx", "nightly", 86400, &newest,
                                   newest.finished_unix() + 2 * 86400 + 3600);
  EXPECT_EQ(n.event(), kDeploymentStale);
  EXPECT_EQ(n.set_id(), "s1");
  EXPECT_NE(n.summary().find("is 2d 1h old; policy nightly wants one every "
                             "1d 0h"),
            std::string::npos)
      << n.summary();
  EXPECT_NE(StaleNotice("dx-prod", "dx", "nightly", 3600, nullptr, 0)
                .summary()
                .find("has no complete backup set"),
            std::string::npos);
}

TEST(WebhookBodyTest, GenericIsTheNoticeAndSlackIsText) {
  v1::Notice n = *SetEndNotice(Set("s2", v1::SET_FAILED), nullptr);
  v1::Notice parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  WebhookBody(v1::Webhook::GENERIC, n), &parsed)
                  .ok());
  EXPECT_EQ(parsed.event(), "set_failed");
  EXPECT_EQ(parsed.namespace_(), "dx-prod");
  EXPECT_NE(WebhookBody(v1::Webhook::GENERIC, n).find("\"set_id\":\"s2\""),
            std::string::npos);
  const std::string slack = WebhookBody(v1::Webhook::SLACK, n);
  EXPECT_EQ(slack.rfind("{\"text\":\"dxbackup set_failed: backup set s2", 0),
            0u)
      << slack;
  EXPECT_NE(slack.find("\\ncore/profile: agent gone"), std::string::npos);
}

// What the webhooks were sent, answered by a script of outcomes.
class Posts {
 public:
  explicit Posts(std::vector<absl::Status> outcomes)
      : outcomes_(std::move(outcomes)) {}
  absl::Status Post(const WebhookPost& post) {
    std::lock_guard<std::mutex> lock(mu_);
    urls_.push_back(post.url);
    bodies_.push_back(post.body);
    const absl::Status s =
        next_ < outcomes_.size() ? outcomes_[next_++] : absl::OkStatus();
    cv_.notify_all();
    return s;
  }
  // Waits for the `n`-th attempt.
  void AwaitAttempts(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return urls_.size() >= n; });
  }
  std::vector<std::string> urls() {
    std::lock_guard<std::mutex> lock(mu_);
    return urls_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<absl::Status> outcomes_;
  size_t next_ = 0;
  std::vector<std::string> urls_, bodies_;
};

class NotifierTest : public ::testing::Test {
 protected:
  v1::Webhook* AddWebhook(const std::string& name, const std::string& url) {
    v1::Webhook* w = config_.add_webhooks();
    w->set_name(name);
    w->set_url(url);
    return w;
  }
  std::unique_ptr<Notifier> Start(Posts* posts) {
    return std::make_unique<Notifier>(
        config_, &time_, "sched-1",
        [posts](const WebhookPost& p) { return posts->Post(p); });
  }
  // Moves time by `seconds` once the notifier waits for its next retry.
  void PassRetry(int seconds) {
    ASSERT_TRUE(time_.AwaitWaiters(1, round_));
    round_ = time_.Advance(std::chrono::seconds(seconds));
  }

  v1::Notifications config_;
  testing::FakeTimeSource time_;
  uint64_t round_ = 0;
  const v1::Notice failed_ = *SetEndNotice(Set("s2", v1::SET_FAILED), nullptr);
};

TEST_F(NotifierTest, RetriesAnUnreachableWebhookWithBackoffUntilDelivered) {
  AddWebhook("ops", "http://127.0.0.1:9/hook");
  Posts posts(
      {absl::UnavailableError("refused"), absl::UnavailableError("HTTP 503")});
  auto notifier = Start(&posts);
  notifier->Notify(failed_);
  posts.AwaitAttempts(1);
  PassRetry(1);  // the first retry comes after 1 s
  posts.AwaitAttempts(2);
  PassRetry(2);  // then 2 s
  posts.AwaitAttempts(3);
  EXPECT_EQ(notifier->Settled(), 0u);
  EXPECT_EQ(notifier->delivered(), 1u);
  EXPECT_EQ(notifier->dropped(), 0u);
  notifier.reset();
  EXPECT_EQ(posts.urls().size(), 3u);
  // Each attempt sent the same notice, stamped with the scheduler.
  v1::Notice sent;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(posts.bodies()[2], &sent)
          .ok());
  EXPECT_EQ(sent.set_id(), "s2");
  EXPECT_EQ(sent.scheduler(), "sched-1");
}

TEST_F(NotifierTest, GivesUpAfterGiveUpAfterAndNeverRetriesARefusal) {
  config_.set_give_up_after("1h");
  AddWebhook("down", "http://127.0.0.1:9/a");
  AddWebhook("wrong", "http://127.0.0.1:9/b");
  std::vector<absl::Status> outcomes(
      100, absl::UnavailableError("could not connect"));
  outcomes[1] = absl::FailedPreconditionError("HTTP 404");  // "wrong"'s
  Posts posts(outcomes);
  auto notifier = Start(&posts);
  notifier->Notify(failed_);
  posts.AwaitAttempts(2);
  // "down" again after 1, 2, 4 ... 256 s, then every 5 min: the attempt
  // at 3511 s is the last, as waiting 5 min more passes the hour.
  std::vector<int> waits = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  waits.resize(waits.size() + 10, 300);
  for (size_t i = 0; i < waits.size(); ++i) {
    PassRetry(waits[i]);
    posts.AwaitAttempts(i + 3);
  }
  EXPECT_EQ(notifier->Settled(), 0u) << "still retrying past give_up_after";
  EXPECT_EQ(notifier->dropped(), 2u);  // "wrong" at once, "down" at last
  EXPECT_EQ(notifier->delivered(), 0u);
  const std::vector<std::string> urls = posts.urls();
  ASSERT_EQ(urls.size(), 21u);
  EXPECT_EQ(std::count(urls.begin(), urls.end(), "http://127.0.0.1:9/b"), 1);
}

TEST_F(NotifierTest, EachWebhookGetsOnlyTheEventsItTakes) {
  AddWebhook("all", "http://127.0.0.1:9/all");
  AddWebhook("stale-only", "http://127.0.0.1:9/stale")
      ->add_events(kDeploymentStale);
  Posts posts({});
  auto notifier = Start(&posts);
  notifier->Notify(failed_);
  notifier->Notify(StaleNotice("dx-prod", "dx", "nightly", 60, nullptr, 0));
  posts.AwaitAttempts(3);
  notifier.reset();
  std::vector<std::string> urls = posts.urls();
  std::sort(urls.begin(), urls.end());
  EXPECT_EQ(urls, (std::vector<std::string>{"http://127.0.0.1:9/all",
                                            "http://127.0.0.1:9/all",
                                            "http://127.0.0.1:9/stale"}));
}

TEST_F(NotifierTest, AUrlFileIsReadAtEachAttemptSoARotatedSecretIsUsed) {
  testing::TempDir dir;
  testing::WriteFile(dir / "url", "http://127.0.0.1:9/old\n");
  v1::Webhook* w = config_.add_webhooks();
  w->set_name("slack");
  w->set_format(v1::Webhook::SLACK);
  w->set_url_file(dir / "url");
  Posts posts({absl::UnavailableError("gone")});
  auto notifier = Start(&posts);
  notifier->Notify(failed_);
  posts.AwaitAttempts(1);
  testing::WriteFile(dir / "url", "http://127.0.0.1:9/new\n");
  PassRetry(1);
  posts.AwaitAttempts(2);
  notifier.reset();
  EXPECT_EQ(posts.urls(), (std::vector<std::string>{"http://127.0.0.1:9/old",
                                                    "http://127.0.0.1:9/new"}));
  EXPECT_EQ(posts.bodies()[1].rfind("{\"text\":", 0), 0u);
}

// What a scheduler killed, or stopped, before a delivery ended left in the
// catalog is sent by the next one (a restart, or the scheduler that took
// over); what ended leaves nothing behind.
TEST_F(NotifierTest, WhatWasNotDeliveredIsSentAfterARestart) {
  AddWebhook("ops", "http://127.0.0.1:9/ops");
  AddWebhook("wrong", "http://127.0.0.1:9/wrong");
  testing::MemoryCatalog catalog;
  {
    Posts down({absl::UnavailableError("could not connect"),
                absl::FailedPreconditionError("HTTP 404")});
    Notifier notifier(
        config_, &time_, "sched-1",
        [&down](const WebhookPost& p) { return down.Post(p); }, &catalog);
    notifier.Notify(failed_);
    down.AwaitAttempts(2);
    EXPECT_EQ(notifier.Settled(), 1u) << "ops waits for its retry";
  }  // the scheduler stops (or is killed) before the retry
  auto kept = catalog.PendingNotices();
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u) << "the refused one went; ops's stays";
  EXPECT_EQ((*kept)[0].webhook, "ops");

  // The next scheduler has another webhook list: a kept delivery to a
  // webhook gone from it is forgotten.
  v1::Notice gone = failed_;
  ASSERT_TRUE(catalog.AddPendingNotice("removed", gone).ok());
  Posts up({});
  auto next = std::make_unique<Notifier>(
      config_, &time_, "sched-2",
      [&up](const WebhookPost& p) { return up.Post(p); }, &catalog);
  up.AwaitAttempts(1);
  EXPECT_EQ(next->Settled(), 0u);
  EXPECT_EQ(next->delivered(), 1u);
  EXPECT_EQ(up.urls(), std::vector<std::string>{"http://127.0.0.1:9/ops"});
  v1::Notice sent;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(up.bodies()[0], &sent).ok());
  EXPECT_EQ(sent.set_id(), "s2");
  EXPECT_EQ(sent.scheduler(), "sched-1") << "the notice as it was made";
  EXPECT_TRUE(catalog.PendingNotices()->empty());
}

// A scheduler whose lock was not confirmed lately (frozen past it, the
// one that took over reading the same outbox) sends nothing until it is.
TEST_F(NotifierTest, NothingIsSentWhileTheSchedulerMayNotBeActive) {
  AddWebhook("ops", "http://127.0.0.1:9/ops");
  testing::MemoryCatalog catalog;
  std::atomic<bool> active{false};
  Posts posts({});
  Notifier notifier(
      config_, &time_, "sched-1",
      [&posts](const WebhookPost& p) { return posts.Post(p); }, &catalog,
      [&active] { return active.load(); });
  notifier.Notify(failed_);
  PassRetry(1);  // once it waits, a second passes
  // It looked again, found itself still not confirmed, and waits again.
  ASSERT_TRUE(time_.AwaitWaiters(1, round_));
  EXPECT_EQ(notifier.Settled(), 1u);
  EXPECT_TRUE(posts.urls().empty()) << "not sent while not confirmed";
  active = true;
  PassRetry(1);
  posts.AwaitAttempts(1);
  EXPECT_EQ(notifier.Settled(), 0u);
  EXPECT_EQ(notifier.delivered(), 1u);
}

// Kept across a restart, a delivery is still given up on give_up_after
// from the notice, not from the restart.
TEST_F(NotifierTest, AKeptDeliveryIsGivenUpOnFromTheNotice) {
  config_.set_give_up_after("1h");
  AddWebhook("ops", "http://127.0.0.1:9/ops");
  testing::MemoryCatalog catalog;
  v1::Notice old = failed_;
  old.set_at_unix(time_.NowUnix() - 2 * 3600);
  ASSERT_TRUE(catalog.AddPendingNotice("ops", old).ok());
  Posts down({absl::UnavailableError("could not connect")});
  Notifier notifier(
      config_, &time_, "sched-2",
      [&down](const WebhookPost& p) { return down.Post(p); }, &catalog);
  down.AwaitAttempts(1);
  EXPECT_EQ(notifier.Settled(), 0u) << "one attempt, then given up";
  EXPECT_EQ(notifier.dropped(), 1u);
  EXPECT_TRUE(catalog.PendingNotices()->empty());
}

// Active replicas share the outbox: one that starts takes up none of the
// kept deliveries (the replica that made each is sending it), and takes
// up a deployment's when it takes that deployment over, once.
TEST_F(NotifierTest, AReplicaTakesUpOnlyTheDeploymentsItTakesOver) {
  AddWebhook("ops", "http://127.0.0.1:9/ops");
  testing::MemoryCatalog catalog;
  v1::Notice mine = failed_, theirs = failed_;
  mine.set_namespace_("ns-taken");
  theirs.set_namespace_("ns-live");
  ASSERT_TRUE(catalog.AddPendingNotice("ops", mine).ok());
  ASSERT_TRUE(catalog.AddPendingNotice("ops", theirs).ok());
  Posts posts({});
  Notifier notifier(
      config_, &time_, "replica-2",
      [&posts](const WebhookPost& p) { return posts.Post(p); }, &catalog,
      nullptr, /*take_up_kept=*/false);
  EXPECT_EQ(notifier.Settled(), 0u) << "none taken up at start";
  notifier.TakeUpKeptOf("ns-taken", mine.release());
  posts.AwaitAttempts(1);
  EXPECT_EQ(notifier.Settled(), 0u);
  notifier.TakeUpKeptOf("ns-taken", mine.release());
  EXPECT_EQ(notifier.Settled(), 0u);
  EXPECT_EQ(notifier.delivered(), 1u) << "sent once";
  auto kept = catalog.PendingNotices();
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].notice.namespace_(), "ns-live") << "left to its replica";
}

}  // namespace
}  // namespace dxbackup::scheduler
