#include "scheduler/notify/notifier.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/secret_file.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "scheduler/policy/calendar_duration.h"

namespace dxbackup::scheduler {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{5 * 60 * 1000};
constexpr std::chrono::seconds kDefaultGiveUp{24 * 3600};

std::chrono::seconds GiveUpAfter(const v1::Notifications& config) {
  absl::StatusOr<CalendarDuration> d =
      CalendarDuration::Parse(config.give_up_after());
  if (config.give_up_after().empty() || !d.ok() || d->zero()) {
    return kDefaultGiveUp;
  }
  return std::chrono::seconds(d->MinimumSeconds());
}

bool Wants(const v1::Webhook& webhook, const std::string& event) {
  return webhook.events().empty() ||
         std::find(webhook.events().begin(), webhook.events().end(), event) !=
             webhook.events().end();
}

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // A Notice or a Struct always prints.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace

std::string WebhookBody(v1::Webhook::Format format, const v1::Notice& notice) {
  if (format != v1::Webhook::SLACK) return Json(notice);
  std::string text =
      absl::StrCat("dxbackup ", notice.event(), ": ", notice.summary());
  if (!notice.detail().empty()) absl::StrAppend(&text, "\n", notice.detail());
  google::protobuf::Struct slack;
  (*slack.mutable_fields())["text"].set_string_value(text);
  return Json(slack);
}

Notifier::Notifier(const v1::Notifications& config,
                   const common::TimeSource* time, std::string scheduler_name,
                   PostFn post, NoticeOutbox* outbox,
                   std::function<bool()> may_send, bool take_up_kept)
    : config_(config),
      time_(time),
      scheduler_name_(std::move(scheduler_name)),
      post_(std::move(post)),
      outbox_(outbox),
      may_send_(std::move(may_send)),
      give_up_after_(GiveUpAfter(config)) {
  if (outbox_ != nullptr && take_up_kept) {
    std::lock_guard<std::mutex> lock(mu_);
    TakeUpKeptLocked([](const v1::Notice&) { return true; });
  }
  if (!config_.webhooks().empty()) thread_ = std::thread([this] { Loop(); });
}

void Notifier::TakeUpKeptOf(const std::string& namespace_,
                            const std::string& release) {
  if (outbox_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    TakeUpKeptLocked([&](const v1::Notice& notice) {
      return notice.namespace_() == namespace_ && notice.release() == release;
    });
  }
  cv_.notify_all();
}

void Notifier::TakeUpKeptLocked(
    const std::function<bool(const v1::Notice&)>& wanted) {
  absl::StatusOr<std::vector<NoticeOutbox::PendingNotice>> kept =
      outbox_->PendingNotices();
  if (!kept.ok()) {
    DXLOG(ERROR) << "notifications: " << kept.status().message()
                 << "; those not delivered before this start are not sent "
                    "now (they stay in the catalog)";
    return;
  }
  const auto now = time_->Monotonic();
  const int64_t now_unix = time_->NowUnix();
  size_t taken = 0;
  std::set<int64_t> queued;
  for (const Delivery& d : pending_) queued.insert(d.kept);
  for (NoticeOutbox::PendingNotice& p : *kept) {
    if (!wanted(p.notice) || queued.count(p.id) != 0) continue;
    const v1::Webhook* webhook = nullptr;
    for (const v1::Webhook& w : config_.webhooks()) {
      if (w.name() == p.webhook) webhook = &w;
    }
    if (webhook == nullptr || !Wants(*webhook, p.notice.event()) ||
        pending_.size() >= kMaxPending) {
      DXLOG(WARNING) << "notification " << p.notice.event() << " to webhook "
                     << p.webhook << " was not delivered, and "
                     << (webhook == nullptr ? "no webhook of that name is "
                                              "configured now"
                         : pending_.size() >= kMaxPending
                             ? "too many notifications wait"
                             : "that webhook no longer takes the event")
                     << ": forgotten";
      outbox_->RemovePendingNotice(p.id).IgnoreError();
      ++dropped_;
      continue;
    }
    // Given up on as if it had been retried since the notice.
    const auto age = std::chrono::seconds(
        std::max<int64_t>(0, now_unix - p.notice.at_unix()));
    pending_.push_back(
        {webhook, std::move(p.notice), now, now - age, kFirstBackoff, 0, p.id});
    ++queued_;
    ++taken;
  }
  if (taken > 0) {
    DXLOG(INFO) << "notifications: " << taken
                << " not delivered before this start are sent now";
  }
}

void Notifier::Forget(const Delivery& d) {
  if (outbox_ == nullptr || d.kept == 0) return;
  absl::Status s = outbox_->RemovePendingNotice(d.kept);
  if (!s.ok()) {
    DXLOG(ERROR) << "notification " << d.notice.event() << " to webhook "
                 << d.webhook->name() << ": " << s.message()
                 << "; the next start may send it again";
  }
}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!pending_.empty()) {
    const size_t kept = static_cast<size_t>(
        std::count_if(pending_.begin(), pending_.end(),
                      [](const Delivery& d) { return d.kept != 0; }));
    DXLOG(WARNING) << pending_.size()
                   << " notifications were not delivered before the "
                      "scheduler stopped; "
                   << kept
                   << " of them are kept in the catalog and sent at the next "
                      "start";
  }
}

void Notifier::Notify(const v1::Notice& notice) {
  DXLOG(INFO) << "notice " << notice.event() << ": " << notice.summary();
  if (config_.webhooks().empty()) return;
  v1::Notice stamped = notice;
  stamped.set_scheduler(scheduler_name_);
  // Kept first, so that a scheduler killed from here on leaves them to
  // the next one.
  std::vector<std::pair<const v1::Webhook*, int64_t>> deliveries;
  for (const v1::Webhook& webhook : config_.webhooks()) {
    if (!Wants(webhook, notice.event())) continue;
    int64_t kept = 0;
    if (outbox_ != nullptr) {
      absl::StatusOr<int64_t> id =
          outbox_->AddPendingNotice(webhook.name(), stamped);
      if (id.ok()) {
        kept = *id;
      } else {
        DXLOG(ERROR) << "notification " << notice.event() << " to webhook "
                     << webhook.name() << ": " << id.status().message()
                     << "; sent all the same, but lost if the scheduler "
                        "stops before it is delivered";
      }
    }
    deliveries.emplace_back(&webhook, kept);
  }
  const auto now = time_->Monotonic();
  std::vector<Delivery> pushed_out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [webhook, kept] : deliveries) {
      if (pending_.size() >= kMaxPending) {
        DXLOG(ERROR) << "too many notifications waiting; dropped the oldest ("
                     << pending_.front().notice.event() << " to webhook "
                     << pending_.front().webhook->name() << ")";
        pushed_out.push_back(std::move(pending_.front()));
        pending_.pop_front();
        ++dropped_;
      }
      pending_.push_back({webhook, stamped, now, now, kFirstBackoff, 0, kept});
      ++queued_;
    }
  }
  cv_.notify_all();
  for (const Delivery& d : pushed_out) Forget(d);
}

uint64_t Notifier::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delivered_;
}

size_t Notifier::Settled() const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock,
           [this] { return waiting_ || stopping_ || !thread_.joinable(); });
  return pending_.size();
}

uint64_t Notifier::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

absl::Status Notifier::Attempt(const Delivery& d) {
  WebhookPost post;
  if (!d.webhook->url_file().empty()) {
    absl::StatusOr<std::string> url =
        common::ReadSecretFile(d.webhook->url_file());
    if (!url.ok()) {
      // A Secret being remounted comes back: worth another try.
      return absl::UnavailableError(absl::StrCat(
          "its url_file cannot be read: ", url.status().message()));
    }
    post.url = *url;
    if (!absl::StartsWith(post.url, "http://") &&
        !absl::StartsWith(post.url, "https://")) {
      return absl::FailedPreconditionError(
          "its url_file does not hold a URL starting with http:// or "
          "https://");
    }
  } else {
    post.url = d.webhook->url();
  }
  post.body = WebhookBody(d.webhook->format(), d.notice);
  post.timeout_seconds = d.webhook->timeout_seconds();
  post.ca_file = d.webhook->ca_file();
  return post_(post);
}

void Notifier::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // The delivery due first.
    auto next = std::min_element(
        pending_.begin(), pending_.end(),
        [](const Delivery& a, const Delivery& b) { return a.due < b.due; });
    if (stopping_) return;
    if (next == pending_.end()) {
      waiting_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      waiting_ = false;
      continue;
    }
    if (next->due > time_->Monotonic()) {
      const auto due = next->due;
      const uint64_t queued = queued_;
      // Woken early by a new notice (which may be due sooner) or a stop.
      waiting_ = true;
      cv_.notify_all();
      time_->WaitUntil(lock, cv_, due, [this, queued] {
        return stopping_ || queued_ != queued;
      });
      waiting_ = false;
      continue;
    }
    if (may_send_ && !may_send_()) {
      // Not confirmed active lately: the process is about to stop, or its
      // lock is confirmed again within seconds. Looked at again in 1 s.
      next->due = time_->Monotonic() + std::chrono::seconds(1);
      continue;
    }
    Delivery d = std::move(*next);
    pending_.erase(next);
    lock.unlock();
    const absl::Status s = Attempt(d);
    const auto now = time_->Monotonic();
    lock.lock();
    ++d.attempts;
    const std::string what = absl::StrCat("notification ", d.notice.event(),
                                          " to webhook ", d.webhook->name());
    // Its end (delivered, refused, given up) forgets its outbox row, then
    // counts: a test that saw the count sees the row gone.
    auto ended = [&] {
      lock.unlock();
      Forget(d);
      lock.lock();
    };
    if (s.ok()) {
      ended();
      ++delivered_;
      if (d.attempts > 1) {
        DXLOG(INFO) << what << " delivered after " << d.attempts << " attempts";
      }
      continue;
    }
    if (!absl::IsUnavailable(s)) {
      ended();
      ++dropped_;
      DXLOG(ERROR) << what << " refused, dropped: " << s.message();
      continue;
    }
    if (now + d.backoff - d.first > give_up_after_) {
      ended();
      ++dropped_;
      DXLOG(ERROR) << what << " given up after " << d.attempts
                   << " attempts: " << s.message();
      continue;
    }
    DXLOG(WARNING) << what << " failed (" << s.message() << "); retrying in "
                   << d.backoff.count() << " ms";
    d.due = now + d.backoff;
    d.backoff = std::min(d.backoff * 2, kMaxBackoff);
    pending_.push_back(std::move(d));
  }
}

}  // namespace dxbackup::scheduler
