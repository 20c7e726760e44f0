// Notifier delivers notices to the configured webhooks (config
// `notifications`), on a thread of its own: Notify() queues and returns,
// so a set never waits for a webhook. Each delivery — one notice to one
// webhook whose `events` take it — is tried at once, then, while the
// webhook cannot be reached or answers 5xx/408/429, again after a backoff
// (1 s doubling to 5 min) until `give_up_after` (24 h) has passed since
// the notice; any other answer drops it. Each failure and each drop is
// logged, naming the webhook and the event, never the URL. A `url_file`
// is read at each attempt, so a rotated Secret is used without a restart.
// At most kMaxPending deliveries wait; past that the oldest is dropped.
//
// Deliveries go one at a time, in the order they are due: a webhook that
// times out delays the others by its timeout.
//
// With an outbox (the catalog's NoticeOutbox), each delivery is kept there
// from Notify until it ends (delivered, refused, given up, pushed out), and
// a notifier that starts takes up the ones kept: those a scheduler killed
// or stopped, or the one before a takeover, had not delivered. Their
// give-up time counts from the notice's at_unix. A kept one whose webhook
// is no longer configured, or no longer takes its event, is forgotten,
// saying so. An outbox that fails is logged; the delivery goes on from
// memory. Delivery is at least once: a delivery whose row could not be
// forgotten, or a scheduler killed between a POST and forgetting its row,
// sends it again at the next start.
//
//   Notifier notifier(config.notifications(), &common::RealTime());
//   notifier.Notify(notice);    // from any thread
//
// Thread-safe. `time` (and `outbox`) must outlive the notifier; the
// destructor stops the thread, logging how many were not delivered (kept
// in the outbox, if any, for the next start).
#ifndef DXBACKUP_SCHEDULER_NOTIFY_NOTIFIER_H_
#define DXBACKUP_SCHEDULER_NOTIFY_NOTIFIER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "common/time_source.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/notice_outbox.h"
#include "scheduler/notify/notice_sink.h"
#include "scheduler/notify/webhook_post.h"

namespace dxbackup::scheduler {

// The body a webhook of `format` is sent for `notice`: GENERIC the notice
// as JSON (proto field names), SLACK {"text": "..."}.
std::string WebhookBody(v1::Webhook::Format format, const v1::Notice& notice);

class Notifier : public NoticeSink {
 public:
  static constexpr size_t kMaxPending = 10000;

  using PostFn = std::function<absl::Status(const WebhookPost&)>;
  // `post` sends one attempt (PostJson; a test's own). `scheduler_name`
  // goes into each notice (v1::Notice.scheduler). `outbox` (may be null)
  // keeps what is not delivered yet (see above). `may_send` (empty:
  // always) is asked before each attempt; while false, attempts wait (a
  // scheduler frozen past its lock must not send what the one that took
  // over, reading the outbox, sends too).
  // `take_up_kept` false: none of the kept deliveries is taken up at
  // start, only those TakeUpKeptOf names (an active replica: the others'
  // are being delivered by them).
  Notifier(const v1::Notifications& config, const common::TimeSource* time,
           std::string scheduler_name, PostFn post = PostJson,
           NoticeOutbox* outbox = nullptr,
           std::function<bool()> may_send = nullptr, bool take_up_kept = true);
  ~Notifier() override;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Notify(const v1::Notice& notice) override;
  // Takes up the kept deliveries of notices about one deployment, which
  // an active replica has just taken over from one that stopped; those
  // already queued here are not taken twice.
  void TakeUpKeptOf(const std::string& namespace_, const std::string& release);

  // Deliveries made, and dropped (refused, given up, or pushed out).
  uint64_t delivered() const;
  uint64_t dropped() const;
  // Returns once the delivery thread waits (for a delivery's time, or for
  // a notice), no attempt in flight: how many deliveries wait. Tests use
  // it to see what an attempt's outcome left.
  size_t Settled() const;

 private:
  struct Delivery {
    const v1::Webhook* webhook;
    v1::Notice notice;
    common::TimeSource::MonotonicTime due;
    common::TimeSource::MonotonicTime first;
    std::chrono::milliseconds backoff{0};
    int attempts = 0;
    int64_t kept = 0;  // its outbox row; 0: none
  };
  // Queues the deliveries the outbox kept whose notices `wanted` accepts,
  // but for those queued already. mu_ held.
  void TakeUpKeptLocked(const std::function<bool(const v1::Notice&)>& wanted);
  // Forgets a delivery's outbox row, if it has one. mu_ not held.
  void Forget(const Delivery& d);
  void Loop();
  // One attempt; OK, or why it failed.
  absl::Status Attempt(const Delivery& d);

  v1::Notifications config_;
  const common::TimeSource* time_;
  std::string scheduler_name_;
  PostFn post_;
  NoticeOutbox* outbox_;
  std::function<bool()> may_send_;
  std::chrono::seconds give_up_after_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Delivery> pending_;
  bool stopping_ = false;
  uint64_t delivered_ = 0, dropped_ = 0;
  uint64_t queued_ = 0;   // deliveries ever queued: a new one wakes Loop
  bool waiting_ = false;  // Loop waits (see Settled)
  std::thread thread_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_NOTIFY_NOTIFIER_H_
